#include <CLI/CLI.hpp>

#include "cli/img_command.h"
#include "cli/run_command.h"
#include "cli/user_command.h"

int main(int argc, char** argv) {
  CLI::App app{"cella: a hosted hypervisor for x86-64"};
  app.require_subcommand(1);
  cella::cli::register_img_command(app);
  cella::cli::register_run_command(app);
  cella::cli::register_user_command(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
