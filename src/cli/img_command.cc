#include "cli/img_command.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "block/format_registry.h"
#include "cli/img_subcommands.h"

namespace cella::cli {

namespace {

struct Subcommand {
  const char* name;
  const char* summary;
  // Exit code for a wrong flag or operand: 1, except compare, where 1 means "the images
  // differ" and errors are 2.
  int usage_exit_code;
  void (*setup)(CLI::App& command, int& exit_code);
};

constexpr std::array<Subcommand, 9> kSubcommands = {{
    {"create", "create a new image", 1, setup_img_create},
    {"info", "show an image's format, sizes and backing file", 1, setup_img_info},
    {"check", "check an image's metadata for consistency (and repair it)", 1, setup_img_check},
    {"convert", "copy an image into a new one, of any format", 1, setup_img_convert},
    {"commit", "copy an overlay's changes into its backing image", 1, setup_img_commit},
    {"rebase", "change the backing file of an overlay", 1, setup_img_rebase},
    {"resize", "grow or shrink an image", 1, setup_img_resize},
    {"map", "show how an image's ranges are allocated", 1, setup_img_map},
    {"compare", "compare the content of two images", 2, setup_img_compare},
}};

// The subcommand named by the first argument, or null.
const Subcommand* find_subcommand(const std::vector<std::string>& args) {
  for (const Subcommand& subcommand : kSubcommands) {
    if (!args.empty() && args.front() == subcommand.name) return &subcommand;
  }
  return nullptr;
}

}  // namespace

int run_img(const std::vector<std::string>& args) {
  CLI::App app{"Disk image tools with qemu-img's flags and exit codes (docs/cli.md).\nFormats: " +
                   block::format_names(),
               "cella img"};
  app.require_subcommand(1);
  int exit_code = 0;
  for (const Subcommand& subcommand : kSubcommands) {
    CLI::App* command = app.add_subcommand(subcommand.name, subcommand.summary);
    subcommand.setup(*command, exit_code);
  }
  if (!args.empty() && !args.front().starts_with('-') && find_subcommand(args) == nullptr) {
    std::string names;
    for (const Subcommand& subcommand : kSubcommands) {
      names += names.empty() ? subcommand.name : std::string(", ") + subcommand.name;
    }
    fmt::print(stderr, "cella img: unknown subcommand '{}' (known: {})\n", args.front(), names);
    return 1;
  }
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 parses from the back
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::ParseError& error) {
    const Subcommand* subcommand = find_subcommand(args);
    const std::string name = subcommand != nullptr ? subcommand->name : "";
    fmt::print(stderr, "cella img{}{}: {}\nTry 'cella img {}--help' for more information.\n",
               name.empty() ? "" : " ", name, error.what(), name.empty() ? "" : name + " ");
    return subcommand != nullptr ? subcommand->usage_exit_code : 1;
  }
  return exit_code;
}

void register_img_command(CLI::App& app) {
  CLI::App* img = app.add_subcommand("img", "disk image tools (create, convert, check, ...)");
  // Everything after `img` is parsed by run_img, which owns its help and exit codes.
  img->prefix_command();
  img->set_help_flag();
  img->callback([img] {
    const int exit_code = run_img(img->remaining());
    if (exit_code != 0) throw CLI::RuntimeError(exit_code);
  });
}

}  // namespace cella::cli
