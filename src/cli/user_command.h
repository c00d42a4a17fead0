// `cella user [OPTIONS] PROGRAM [ARGS...]`: runs a Linux x86-64 program on the software CPU
// (the process virtual machine of src/user/). See docs/cli.md and docs/user-mode.md.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace cella::cli {

// Adds the `user` subcommand to the `cella` command.
void register_user_command(CLI::App& app);

// Runs `cella user` with the arguments that follow "user"; returns the exit code (the
// program's exit status; 126 or 127 when it cannot be started, 1 for a usage error).
int run_user(const std::vector<std::string>& args);

}  // namespace cella::cli
