// `cella img`: disk image tools with qemu-img's habits (create, info, check, convert, commit,
// rebase, resize, map, compare). See docs/cli.md.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace cella::cli {

// Adds the `img` subcommand to the `cella` command.
void register_img_command(CLI::App& app);

// Runs `cella img` with the arguments that follow "img"; returns the exit code.
int run_img(const std::vector<std::string>& args);

}  // namespace cella::cli
