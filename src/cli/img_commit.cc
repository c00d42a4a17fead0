// `cella img commit [-q] [-f FMT] [-t CACHE] [-b BASE] [-d] [-p] FILE`
#include <fmt/format.h>

#include "block/ops/commit.h"
#include "cli/img_common.h"
#include "cli/img_subcommands.h"

namespace cella::cli {

namespace {

struct CommitArgs {
  bool quiet = false;
  std::string format;
  std::string cache;
  std::string base;
  bool keep = false;
  bool progress = false;
  std::string filename;
};

Result<int> run_commit(const CommitArgs& args) {
  block::OpenOptions options;
  options.format = args.format;
  options.backing_writable = true;
  CELLA_TRY_ASSIGN(overlay, block::open_image(args.filename, options));
  if (overlay->backing() == nullptr) {
    return make_error("{} has no backing file to commit into", args.filename);
  }
  if (!args.base.empty() && !same_file(args.base, overlay->backing()->path())) {
    return make_error("-b {}: only the immediate backing image ({}) can be committed into",
                      args.base, overlay->backing()->path());
  }
  ProgressMeter meter(args.progress && !args.quiet);
  block::ops::CommitOptions commit;
  commit.keep_overlay = args.keep;
  commit.progress = [&](uint64_t done, uint64_t total) { meter.update(done, total); };
  CELLA_TRY(block::ops::commit(*overlay, commit));
  meter.finish();
  if (!args.quiet) fmt::print("Image committed.\n");
  return kExitOk;
}

}  // namespace

void setup_img_commit(CLI::App& command, int& exit_code) {
  auto args = std::make_shared<CommitArgs>();
  add_quiet_option(command, args->quiet);
  add_format_option(command, args->format);
  add_cache_option(command, "-t", args->cache);
  command.add_option("-b", args->base, "the base to commit into: the immediate backing image")
      ->type_name("BASE");
  command.add_flag("-d", args->keep, "keep the overlay's content (do not empty it afterwards)");
  command.add_flag("-p", args->progress, "show progress");
  command.add_option("filename", args->filename, "the overlay")->type_name("FILE")->required();
  command.callback([args, &exit_code] {
    exit_code = run_reporting("commit", kExitFailure, [&] { return run_commit(*args); });
  });
}

}  // namespace cella::cli
