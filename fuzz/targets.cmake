# cella_fuzzer(<name> DEPS <libraries>): one line per fuzz target.
cella_fuzzer(decoder DEPS cella_soft Zydis::Zydis)
cella_fuzzer(soft_cpu DEPS cella_soft)
cella_fuzzer(soft_machine DEPS cella_soft cella_memory)
cella_fuzzer(img_args DEPS cella_cli)
cella_fuzzer(probe DEPS cella_block)
