// `cella img map [-f FMT] [--output human|json] [--start-offset OFFSET] [--max-length LEN] [-U]
//                FILE`
#include <fmt/format.h>

#include "block/ops/chain_map.h"
#include "cli/img_args.h"
#include "cli/img_common.h"
#include "cli/img_subcommands.h"

namespace cella::cli {

namespace {

// Maps are built a slice at a time so that a huge, fragmented image never needs one map of
// everything in memory before printing starts... and merged across slices.
constexpr uint64_t kSlice = uint64_t{1} << 30;

struct MapArgs {
  std::string format;
  OutputFormat output = OutputFormat::kHuman;
  std::string start_offset;
  std::string max_length;
  bool force_share = false;
  std::string filename;
};

// qemu-img's printf("%#x"): "0" for zero, "0x..." otherwise.
std::string hex(uint64_t value) {
  return value == 0 ? "0" : fmt::format("{:#x}", value);
}

class MapPrinter {
 public:
  explicit MapPrinter(OutputFormat output) : output_(output) {
    if (output_ == OutputFormat::kHuman) {
      fmt::print("{:<16}{:<16}{:<16}{}\n", "Offset", "Length", "Mapped to", "File");
    }
  }

  // One line per extent, in qemu-img's layouts. Human output lists what holds data only.
  void print(const block::Extent& extent) {
    const bool data = extent.kind == block::ExtentKind::kData;
    if (output_ == OutputFormat::kHuman) {
      if (!data) return;
      const std::string mapped = extent.host_offset >= 0 ? hex(uint64_t(extent.host_offset)) : "-";
      fmt::print("{:<16}{:<16}{:<16}{}\n", hex(extent.offset), hex(extent.length), mapped,
                 extent.host_file);
      return;
    }
    const bool present = extent.kind != block::ExtentKind::kUnallocated;
    fmt::print(
        "{}{{ \"start\": {}, \"length\": {}, \"depth\": {}, \"present\": {}, \"zero\": {}, "
        "\"data\": {}",
        first_ ? "[" : ",\n", extent.offset, extent.length, extent.depth, present, !data, data);
    if (extent.host_offset >= 0) fmt::print(", \"offset\": {}", extent.host_offset);
    fmt::print("}}");
    first_ = false;
  }

  void finish() {
    if (output_ == OutputFormat::kJson) fmt::print("{}]\n", first_ ? "[" : "");
  }

 private:
  OutputFormat output_;
  bool first_ = true;
};

Result<int> run_map(const MapArgs& args) {
  CELLA_TRY_ASSIGN(image, open_for_reading(args.filename, args.format, args.force_share,
                                           /*with_backing=*/true));
  uint64_t start = 0;
  uint64_t end = image->size();
  if (!args.start_offset.empty()) {
    CELLA_TRY_ASSIGN(offset, parse_size(args.start_offset));
    start = std::min(offset, end);
  }
  if (!args.max_length.empty()) {
    CELLA_TRY_ASSIGN(length, parse_size(args.max_length));
    end = start + std::min(length, end - start);
  }
  MapPrinter printer(args.output);
  std::vector<block::Extent> pending;  // the last extent may continue into the next slice
  for (uint64_t at = start; at < end;) {
    const uint64_t length = std::min(kSlice, end - at);
    CELLA_TRY_ASSIGN(extents, block::ops::map_chain(*image, at, length));
    for (block::Extent& extent : extents) {
      block::ops::append_extent(pending, std::move(extent));
      while (pending.size() > 1) {
        printer.print(pending.front());
        pending.erase(pending.begin());
      }
    }
    at += length;
  }
  for (const block::Extent& extent : pending) printer.print(extent);
  printer.finish();
  return kExitOk;
}

}  // namespace

void setup_img_map(CLI::App& command, int& exit_code) {
  auto args = std::make_shared<MapArgs>();
  add_format_option(command, args->format);
  add_output_option(command, args->output);
  command.add_option("-s,--start-offset", args->start_offset, "first byte to map")
      ->type_name("OFFSET");
  command.add_option("-l,--max-length", args->max_length, "how many bytes to map")
      ->type_name("LENGTH");
  add_force_share_option(command, args->force_share);
  command.add_option("filename", args->filename, "the image")->type_name("FILE")->required();
  command.callback([args, &exit_code] {
    exit_code = run_reporting("map", kExitFailure, [&] { return run_map(*args); });
  });
}

}  // namespace cella::cli
