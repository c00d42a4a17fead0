# cella_fuzzer(<name> DEPS <libraries>): one line per fuzz target.
cella_fuzzer(img_args DEPS cella_cli)
cella_fuzzer(probe DEPS cella_block)
