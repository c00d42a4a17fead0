// `cella img create [-f FMT] [-b BACKING -F BACKING_FMT] [-u] [-o OPTIONS] [-q] FILE [SIZE]`
#include <fmt/format.h>

#include "cli/img_args.h"
#include "cli/img_common.h"
#include "cli/img_subcommands.h"

namespace cella::cli {

namespace {

struct CreateArgs {
  std::string format = "raw";
  std::string backing_file;
  std::string backing_format;
  bool unsafe = false;
  std::vector<std::string> options;
  bool quiet = false;
  std::string filename;
  std::string size;
};

// Moves the options every format shares (size, backing_file, backing_fmt) out of -o into their
// own fields, where the flags (-b, -F, SIZE) also put them.
Result<void> take_common_option(std::map<std::string, std::string>& options, const char* key,
                                std::string& field, const char* flag) {
  auto it = options.find(key);
  if (it == options.end()) return ok();
  if (!field.empty() && field != it->second) {
    return make_error("-o {}={} conflicts with {} {}", key, it->second, flag, field);
  }
  field = it->second;
  options.erase(it);
  return ok();
}

Result<int> run_create(CreateArgs& args) {
  const block::FormatDriver* driver = block::find_format(args.format);
  if (driver == nullptr) {
    return make_error("unknown format '{}' (known: {})", args.format, block::format_names());
  }
  bool help = false;
  CELLA_TRY_ASSIGN(options, parse_key_values(args.options, &help));
  if (help) {
    print_create_options(*driver);
    return kExitOk;
  }
  if (args.filename.empty()) return make_error("no file name given");
  CELLA_TRY(take_common_option(options, "size", args.size, "size"));
  CELLA_TRY(take_common_option(options, "backing_file", args.backing_file, "-b"));
  CELLA_TRY(take_common_option(options, "backing_fmt", args.backing_format, "-F"));

  block::CreateOptions create;
  create.path = args.filename;
  create.options = std::move(options);
  create.backing_file = args.backing_file;
  if (!args.backing_file.empty()) {
    CELLA_TRY_ASSIGN(backing_format,
                     require_backing_format(args.filename, args.backing_file, args.backing_format));
    create.backing_format = backing_format;
  } else if (!args.backing_format.empty()) {
    return make_error("a backing format (-F) needs a backing file (-b)");
  }
  if (!args.size.empty()) {
    CELLA_TRY_ASSIGN(size, parse_size(args.size));
    create.size = size;
  } else if (args.backing_file.empty()) {
    return make_error("no size given (a size is needed unless there is a backing file)");
  } else if (args.unsafe) {
    return make_error("no size given: with -u the backing file is not opened, so give a size");
  }
  if (!args.backing_file.empty() && !args.unsafe) {
    // The backing file must open (and gives the size when none was given).
    CELLA_TRY_ASSIGN(backing,
                     open_for_reading(block::resolve_backing_path(args.filename, args.backing_file),
                                      create.backing_format, /*force_share=*/false,
                                      /*with_backing=*/true));
    if (args.size.empty()) create.size = backing->size();
  }
  if (!args.quiet) {
    std::string line =
        fmt::format("Formatting '{}', fmt={} size={}", args.filename, args.format, create.size);
    if (!create.backing_file.empty()) {
      line += fmt::format(" backing_file={} backing_fmt={}", create.backing_file,
                          create.backing_format);
    }
    for (const auto& [key, value] : create.options) line += fmt::format(" {}={}", key, value);
    fmt::print("{}\n", line);
  }
  CELLA_TRY(block::create_image(args.format, create));
  return kExitOk;
}

}  // namespace

void setup_img_create(CLI::App& command, int& exit_code) {
  auto args = std::make_shared<CreateArgs>();
  command.add_option("-f,--format", args->format, "format of the new image (default raw)")
      ->type_name("FMT");
  command
      .add_option("-b,--backing", args->backing_file,
                  "backing file (relative names are relative to the new image's folder)")
      ->type_name("BACKING");
  command.add_option("-F,--backing-format", args->backing_format, "format of the backing file")
      ->type_name("BACKING_FMT");
  command.add_flag("-u", args->unsafe, "do not open the backing file (SIZE is then required)");
  command
      .add_option("-o", args->options, "format options key=value[,key=value]; -o help lists them")
      ->type_name("OPTIONS")
      ->allow_extra_args(false);
  add_quiet_option(command, args->quiet);
  command.add_option("filename", args->filename, "the image to create")->type_name("FILE");
  command.add_option("size", args->size, "virtual size: bytes, or with a suffix k M G T P E")
      ->type_name("SIZE");
  command.callback([args, &exit_code] {
    exit_code = run_reporting("create", kExitFailure, [&] { return run_create(*args); });
  });
}

}  // namespace cella::cli
