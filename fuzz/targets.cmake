# cella_fuzzer(<name> DEPS <libraries>): one line per fuzz target.
cella_fuzzer(vhd DEPS cella_block)
cella_fuzzer(vhdx DEPS cella_block)
