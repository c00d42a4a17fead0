# cella_fuzzer(<name> DEPS <libraries>): one line per fuzz target.
cella_fuzzer(vmdk DEPS cella_block)
cella_fuzzer(vdi DEPS cella_block)
