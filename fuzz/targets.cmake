# cella_fuzzer(<name> DEPS <libraries>): one line per fuzz target.
cella_fuzzer(elf DEPS cella_user)
