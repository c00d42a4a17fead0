# cella_fuzzer(<name> DEPS <libraries>): one line per fuzz target.
cella_fuzzer(decoder DEPS cella_soft Zydis::Zydis)
cella_fuzzer(soft_cpu DEPS cella_soft)
cella_fuzzer(kernel_image DEPS cella_machine)
cella_fuzzer(legacy_devices DEPS cella_devices)
cella_fuzzer(apic DEPS cella_devices)
cella_fuzzer(pci DEPS cella_pci)
cella_fuzzer(img_args DEPS cella_cli)
cella_fuzzer(probe DEPS cella_block)
