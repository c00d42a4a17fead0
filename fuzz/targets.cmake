# cella_fuzzer(<name> DEPS <libraries>): one line per fuzz target.
cella_fuzzer(qcow2 DEPS cella_block)
