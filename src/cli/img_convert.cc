// `cella img convert [-c] [-p] [-q] [-n] [--target-is-zero] [-f FMT] [-O OUTPUT_FMT]
//                    [-B BACKING [-F BACKING_FMT]] [-o OPTIONS] [-S SPARSE_SIZE] [-U]
//                    [-t CACHE] [-T SRC_CACHE] [-m N] [-W] SOURCE TARGET`
#include <fmt/format.h>
#include <unistd.h>

#include "block/ops/convert.h"
#include "cli/img_args.h"
#include "cli/img_common.h"
#include "cli/img_subcommands.h"

namespace cella::cli {

namespace {

// qemu-img's bound on -S: 16 MiB, in 512-byte sectors.
constexpr uint64_t kMaxSparseSize = 16 << 20;

struct ConvertArgs {
  bool compress = false;
  bool progress = false;
  bool quiet = false;
  bool no_create = false;
  bool target_is_zero = false;
  bool force_share = false;
  bool out_of_order = false;
  int coroutines = 8;
  std::string source_format;
  std::string output_format = "raw";
  std::string backing_file;
  std::string backing_format;
  std::vector<std::string> options;
  std::string sparse_size;
  std::string cache;
  std::string source_cache;
  std::vector<std::string> files;
};

// Refuses a target that is the source or one of its backing images: creating it would
// truncate what is being read.
Result<void> check_target_is_not_source(block::BlockImage& source, const std::string& target) {
  for (block::BlockImage* level = &source; level != nullptr; level = level->backing()) {
    if (same_file(level->path(), target)) {
      return make_error("the target {} is {} (part of the source)", target, level->path());
    }
  }
  return ok();
}

Result<uint64_t> sparse_size(const ConvertArgs& args) {
  if (args.sparse_size.empty()) return block::ops::ConvertOptions{}.min_sparse;
  CELLA_TRY_ASSIGN(size, parse_size(args.sparse_size));
  if (size % 512 != 0 || size > kMaxSparseSize) {
    return make_error("invalid -S {}: a multiple of 512 bytes up to 16M (0: no sparseness)",
                      args.sparse_size);
  }
  return size;
}

Result<void> create_target(const ConvertArgs& args, uint64_t size,
                           std::map<std::string, std::string> options) {
  for (const char* key : {"size", "backing_file", "backing_fmt"}) {
    if (options.count(key) != 0) {
      return make_error("-o {} is not accepted by convert (use -B / -F for a backing file)", key);
    }
  }
  block::CreateOptions create;
  create.path = args.files[1];
  create.size = size;
  create.options = std::move(options);
  create.backing_file = args.backing_file;
  if (!args.backing_file.empty()) {
    CELLA_TRY_ASSIGN(backing_format,
                     require_backing_format(args.files[1], args.backing_file, args.backing_format));
    create.backing_format = backing_format;
  }
  return block::create_image(args.output_format, create);
}

Result<int> run_convert(const ConvertArgs& args) {
  const block::FormatDriver* driver = block::find_format(args.output_format);
  if (driver == nullptr) {
    return make_error("unknown output format '{}' (known: {})", args.output_format,
                      block::format_names());
  }
  bool help = false;
  CELLA_TRY_ASSIGN(options, parse_key_values(args.options, &help));
  if (help) {
    print_create_options(*driver);
    return kExitOk;
  }
  if (args.files.size() != 2) {
    if (args.files.size() < 2) return make_error("a source and a target file are needed");
    return make_error("one source image only (concatenating several is not supported)");
  }
  if (args.no_create && (!options.empty() || !args.backing_file.empty())) {
    return make_error("-n uses the existing target: -o and -B do not apply");
  }
  if (!args.backing_format.empty() && args.backing_file.empty()) {
    return make_error("a backing format (-F) needs a backing file (-B)");
  }
  CELLA_TRY_ASSIGN(min_sparse, sparse_size(args));
  CELLA_TRY_ASSIGN(source, open_for_reading(args.files[0], args.source_format, args.force_share,
                                            /*with_backing=*/true));
  CELLA_TRY(check_target_is_not_source(*source, args.files[1]));
  if (!args.no_create) CELLA_TRY(create_target(args, source->size(), std::move(options)));

  auto copy = [&]() -> Result<void> {
    block::OpenOptions target_options;
    target_options.format = args.output_format;
    // With -B, writes of part of a cluster copy the rest from the target's backing file.
    target_options.open_backing = !args.backing_file.empty();
    CELLA_TRY_ASSIGN(target, block::open_image(args.files[1], target_options));
    ProgressMeter meter(args.progress && !args.quiet);
    block::ops::ConvertOptions convert;
    convert.min_sparse = min_sparse;
    convert.compress = args.compress;
    convert.top_only = !args.backing_file.empty();
    convert.target_zeroed = args.no_create ? args.target_is_zero : args.backing_file.empty();
    convert.progress = [&](uint64_t done, uint64_t total) { meter.update(done, total); };
    CELLA_TRY(block::ops::convert(*source, *target, convert));
    meter.finish();
    return ok();
  };
  auto copied = copy();
  if (!copied) {
    // A half-written image that looks valid is worse than none: remove what this run created.
    if (!args.no_create) ::unlink(args.files[1].c_str());
    return copied.error();
  }
  return kExitOk;
}

}  // namespace

void setup_img_convert(CLI::App& command, int& exit_code) {
  auto args = std::make_shared<ConvertArgs>();
  command.add_flag("-c", args->compress, "compress the target's clusters (qcow2, VMDK)");
  command.add_flag("-p", args->progress, "show progress");
  add_quiet_option(command, args->quiet);
  command.add_flag("-n", args->no_create, "write into an existing target instead of creating it");
  command.add_flag("--target-is-zero", args->target_is_zero,
                   "with -n: the target already reads as zeros, so zeros are not written");
  add_format_option(command, args->source_format);
  command.add_option("-O", args->output_format, "format of the target (default raw)")
      ->type_name("OUTPUT_FMT");
  command
      .add_option("-B", args->backing_file,
                  "backing file of the target: it holds the source's backing content, so only "
                  "what the source's top image allocates is copied")
      ->type_name("BACKING");
  command.add_option("-F", args->backing_format, "format of the -B backing file")
      ->type_name("BACKING_FMT");
  command.add_option("-o", args->options, "target format options key=value[,...]; -o help")
      ->type_name("OPTIONS")
      ->allow_extra_args(false);
  command
      .add_option("-S", args->sparse_size,
                  "zero runs of at least this size are left unallocated (default 4k; 0: "
                  "fully allocated target)")
      ->type_name("SPARSE_SIZE");
  add_force_share_option(command, args->force_share);
  add_cache_option(command, "-t", args->cache);
  add_cache_option(command, "-T", args->source_cache);
  command.add_option("-m", args->coroutines, "accepted for qemu-img compatibility (ignored)")
      ->check(CLI::Range(1, 16));
  command.add_flag("-W", args->out_of_order, "accepted for qemu-img compatibility (ignored)");
  command.add_option("files", args->files, "SOURCE TARGET")->type_name("FILE");
  command.callback([args, &exit_code] {
    exit_code = run_reporting("convert", kExitFailure, [&] { return run_convert(*args); });
  });
}

}  // namespace cella::cli
