# cella_fuzzer(<name> DEPS <libraries>): one line per fuzz target.
cella_fuzzer(soft_exec DEPS cella_soft)
