// The `cella img` subcommands: each adds its options to a CLI11 subcommand and, when run, sets
// the exit code. One file per subcommand (img_<name>.cc).
#pragma once

#include <CLI/CLI.hpp>

namespace cella::cli {

void setup_img_create(CLI::App& command, int& exit_code);
void setup_img_info(CLI::App& command, int& exit_code);
void setup_img_check(CLI::App& command, int& exit_code);
void setup_img_convert(CLI::App& command, int& exit_code);
void setup_img_commit(CLI::App& command, int& exit_code);
void setup_img_rebase(CLI::App& command, int& exit_code);
void setup_img_resize(CLI::App& command, int& exit_code);
void setup_img_map(CLI::App& command, int& exit_code);
void setup_img_compare(CLI::App& command, int& exit_code);

}  // namespace cella::cli
