// `cella img rebase [-q] [-f FMT] [-t CACHE] [-T SRC_CACHE] [-p] [-u] [-U]
//                   -b BACKING [-F BACKING_FMT] FILE`
#include <fmt/format.h>

#include "block/ops/rebase.h"
#include "cli/img_common.h"
#include "cli/img_subcommands.h"

namespace cella::cli {

namespace {

struct RebaseArgs {
  bool quiet = false;
  std::string format;
  std::string cache;
  std::string source_cache;
  bool progress = false;
  bool unsafe = false;
  bool force_share = false;
  std::string backing_file;
  std::string backing_format;
  std::string filename;
};

Result<int> run_rebase(const RebaseArgs& args) {
  std::string backing_format;
  if (!args.backing_file.empty()) {
    CELLA_TRY_ASSIGN(checked,
                     require_backing_format(args.filename, args.backing_file, args.backing_format));
    backing_format = checked;
    if (same_file(block::resolve_backing_path(args.filename, args.backing_file), args.filename)) {
      return make_error("{} cannot be its own backing file", args.filename);
    }
  } else if (!args.backing_format.empty()) {
    return make_error("a backing format (-F) needs a backing file (-b)");
  }
  block::OpenOptions options;
  options.format = args.format;
  options.open_backing = !args.unsafe;
  CELLA_TRY_ASSIGN(overlay, block::open_image(args.filename, options));
  if (args.unsafe) {
    // -u: only the recorded name changes; the user vouches that the content matches.
    CELLA_TRY(overlay->set_backing(args.backing_file, backing_format));
    CELLA_TRY(overlay->flush());
    return kExitOk;
  }
  std::unique_ptr<block::BlockImage> new_backing;
  if (!args.backing_file.empty()) {
    CELLA_TRY_ASSIGN(opened,
                     open_for_reading(block::resolve_backing_path(args.filename, args.backing_file),
                                      backing_format, args.force_share, /*with_backing=*/true));
    new_backing = std::move(opened);
  }
  ProgressMeter meter(args.progress && !args.quiet);
  block::ops::RebaseTarget target{
      .image = new_backing.get(), .file = args.backing_file, .format = backing_format};
  CELLA_TRY(block::ops::rebase(*overlay, target,
                               [&](uint64_t done, uint64_t total) { meter.update(done, total); }));
  meter.finish();
  return kExitOk;
}

}  // namespace

void setup_img_rebase(CLI::App& command, int& exit_code) {
  auto args = std::make_shared<RebaseArgs>();
  add_quiet_option(command, args->quiet);
  add_format_option(command, args->format);
  add_cache_option(command, "-t", args->cache);
  add_cache_option(command, "-T", args->source_cache);
  command.add_flag("-p", args->progress, "show progress");
  command.add_flag("-u", args->unsafe,
                   "unsafe: only change the recorded backing file, copying nothing");
  add_force_share_option(command, args->force_share);
  command
      .add_option("-b", args->backing_file,
                  "the new backing file, relative to the image's folder (\"\": none, which "
                  "copies the whole old backing content into the image)")
      ->type_name("BACKING")
      ->required();
  command.add_option("-F", args->backing_format, "format of the new backing file")
      ->type_name("BACKING_FMT");
  command.add_option("filename", args->filename, "the overlay")->type_name("FILE")->required();
  command.callback([args, &exit_code] {
    exit_code = run_reporting("rebase", kExitFailure, [&] { return run_rebase(*args); });
  });
}

}  // namespace cella::cli
