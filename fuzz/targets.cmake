# cella_fuzzer(<name> DEPS <libraries>): one line per fuzz target.
