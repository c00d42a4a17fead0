# cella_fuzzer(<name> DEPS <libraries>): one line per fuzz target.
cella_fuzzer(decoder DEPS cella_soft Zydis::Zydis)
cella_fuzzer(soft_cpu DEPS cella_soft)
cella_fuzzer(img_args DEPS cella_cli)
cella_fuzzer(probe DEPS cella_block)
cella_fuzzer(qcow2 DEPS cella_block)
cella_fuzzer(vhd DEPS cella_block)
cella_fuzzer(vhdx DEPS cella_block)
cella_fuzzer(elf DEPS cella_user)
