// `cella img resize [-f FMT] [--preallocation=MODE] [-q] [--shrink] FILE [+|-]SIZE`
#include <fmt/format.h>

#include <vector>

#include "cli/img_args.h"
#include "cli/img_common.h"
#include "cli/img_subcommands.h"

namespace cella::cli {

namespace {

struct ResizeArgs {
  std::string format;
  std::string preallocation = "off";
  bool quiet = false;
  bool shrink = false;
  std::string filename;
  std::string size;
};

// Makes the grown range [from, to) allocated: "falloc" reserves it (write-zeroes without
// unmapping), "full" writes zeros into it.
Result<void> preallocate(block::BlockImage& image, const std::string& mode, uint64_t from,
                         uint64_t to) {
  if (mode == "off" || from >= to) return ok();
  if (mode == "falloc") return image.write_zeroes(from, to - from, /*may_unmap=*/false);
  static constexpr uint64_t kChunk = 1 << 20;
  const std::vector<uint8_t> zeros(kChunk, 0);
  for (uint64_t at = from; at < to; at += kChunk) {
    const size_t n = static_cast<size_t>(std::min(kChunk, to - at));
    CELLA_TRY(image.write(at, std::span<const uint8_t>(zeros.data(), n)));
  }
  return ok();
}

Result<int> run_resize(const ResizeArgs& args) {
  CELLA_TRY_ASSIGN(change, parse_size_change(args.size));
  block::OpenOptions options;
  options.format = args.format;
  // The chain is opened: a partial last cluster that reads from the backing file is copied
  // into the image before the bytes past the old end are zeroed.
  CELLA_TRY_ASSIGN(image, block::open_image(args.filename, options));
  const uint64_t old_size = image->size();
  CELLA_TRY_ASSIGN(new_size, apply_size_change(change, old_size));
  if (new_size < old_size) {
    if (!args.shrink) {
      return make_error(
          "shrinking from {} to {} bytes deletes the data past the new end: add --shrink to "
          "confirm",
          old_size, new_size);
    }
    if (args.preallocation != "off") {
      return make_error("--preallocation applies to growing an image, not shrinking it");
    }
  }
  CELLA_TRY(new_size < old_size ? image->resize_with_data_loss(new_size) : image->resize(new_size));
  CELLA_TRY(preallocate(*image, args.preallocation, old_size, new_size));
  CELLA_TRY(image->flush());
  if (!args.quiet) fmt::print("Image resized.\n");
  return kExitOk;
}

}  // namespace

void setup_img_resize(CLI::App& command, int& exit_code) {
  auto args = std::make_shared<ResizeArgs>();
  add_format_option(command, args->format);
  command
      .add_option("--preallocation", args->preallocation,
                  "allocation of the grown part: off (default), falloc or full")
      ->check(CLI::IsMember({"off", "falloc", "full"}))
      ->type_name("MODE");
  add_quiet_option(command, args->quiet);
  command.add_flag("--shrink", args->shrink,
                   "allow shrinking (the data past the new end is deleted)");
  command.add_option("filename", args->filename, "the image")->type_name("FILE")->required();
  command
      .add_option("size", args->size,
                  "new size, or +SIZE / -SIZE relative to the current one (suffixes k M G T P E)")
      ->type_name("[+|-]SIZE")
      ->required();
  command.callback([args, &exit_code] {
    exit_code = run_reporting("resize", kExitFailure, [&] { return run_resize(*args); });
  });
}

}  // namespace cella::cli
