// `cella img compare [-f FMT] [-F FMT] [-T SRC_CACHE] [-p] [-q] [-s] [-U] FILE1 FILE2`
// Exit codes (qemu-img's): 0 identical, 1 different, 2 error.
#include <fmt/format.h>

#include "block/ops/compare.h"
#include "cli/img_common.h"
#include "cli/img_subcommands.h"

namespace cella::cli {

namespace {

constexpr int kExitDifferent = 1;
constexpr int kExitError = 2;

struct CompareArgs {
  std::string format1;
  std::string format2;
  std::string cache;
  bool progress = false;
  bool quiet = false;
  bool strict = false;
  bool force_share = false;
  std::string filename1;
  std::string filename2;
};

Result<int> run_compare(const CompareArgs& args) {
  CELLA_TRY_ASSIGN(first, open_for_reading(args.filename1, args.format1, args.force_share,
                                           /*with_backing=*/true));
  CELLA_TRY_ASSIGN(second, open_for_reading(args.filename2, args.format2, args.force_share,
                                            /*with_backing=*/true));
  ProgressMeter meter(args.progress && !args.quiet);
  block::ops::CompareOptions options;
  options.strict = args.strict;
  options.progress = [&](uint64_t done, uint64_t total) { meter.update(done, total); };
  CELLA_TRY_ASSIGN(result, block::ops::compare(*first, *second, options));
  meter.finish();
  auto say = [&](std::string_view line) {
    if (!args.quiet) fmt::print("{}\n", line);
  };
  if (result.size_mismatch && !args.strict) say("Warning: Image size mismatch!");
  switch (result.difference) {
    case block::ops::Difference::kNone:
      say("Images are identical.");
      return kExitOk;
    case block::ops::Difference::kContent:
      say(fmt::format("Content mismatch at offset {}!", result.offset));
      return kExitDifferent;
    case block::ops::Difference::kAllocation:
      say(fmt::format("Strict mode: Offset {} block status mismatch!", result.offset));
      return kExitDifferent;
    case block::ops::Difference::kSize:
      say("Strict mode: Image size mismatch!");
      return kExitDifferent;
  }
  return kExitError;
}

}  // namespace

void setup_img_compare(CLI::App& command, int& exit_code) {
  auto args = std::make_shared<CompareArgs>();
  command.add_option("-f", args->format1, "format of the first image (probed when absent)")
      ->type_name("FMT");
  command.add_option("-F", args->format2, "format of the second image (probed when absent)")
      ->type_name("FMT");
  add_cache_option(command, "-T", args->cache);
  command.add_flag("-p", args->progress, "show progress");
  add_quiet_option(command, args->quiet);
  command.add_flag("-s", args->strict,
                   "strict: sizes and allocation status must match too, not only content");
  add_force_share_option(command, args->force_share);
  command.add_option("filename1", args->filename1, "first image")->type_name("FILE1")->required();
  command.add_option("filename2", args->filename2, "second image")->type_name("FILE2")->required();
  command.footer("Exit codes: 0 identical, 1 different, 2 error.");
  command.callback([args, &exit_code] {
    exit_code = run_reporting("compare", kExitError, [&] { return run_compare(*args); });
  });
}

}  // namespace cella::cli
