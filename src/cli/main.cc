#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  CLI::App app{"cella: a hosted hypervisor for x86-64"};
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
