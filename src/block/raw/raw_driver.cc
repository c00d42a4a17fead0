#include "block/raw/raw_driver.h"

#include <array>
#include <vector>

#include "base/bits.h"
#include "block/raw/raw_image.h"

namespace cella::block {

namespace {

// Any file is a raw image: confidence 1, so that every other format wins when it recognizes
// the file.
int probe_raw(std::span<const uint8_t> /*head*/, uint64_t /*file_size*/) {
  return 1;
}

Result<std::unique_ptr<BlockImage>> open_raw(HostFile file, const OpenOptions& options) {
  CELLA_TRY_ASSIGN(size, file.size());
  const bool guard = options.format_probed && file.writable();
  return std::unique_ptr<BlockImage>(std::make_unique<RawImage>(std::move(file), size, guard));
}

Result<void> allocate_nothing(HostFile& /*file*/, uint64_t /*size*/) {
  return ok();
}

Result<void> allocate_with_fallocate(HostFile& file, uint64_t size) {
  return size == 0 ? ok() : file.allocate(0, size);
}

// Writes zeros over the whole disk, so that every block is allocated and written.
Result<void> allocate_by_writing(HostFile& file, uint64_t size) {
  static constexpr uint64_t kChunk = 1 << 20;
  const std::vector<uint8_t> zeros(kChunk, 0);
  for (uint64_t at = 0; at < size; at += kChunk) {
    const size_t n = static_cast<size_t>(std::min(kChunk, size - at));
    CELLA_TRY(file.write(at, std::span<const uint8_t>(zeros.data(), n)));
  }
  return ok();
}

struct Preallocation {
  std::string_view name;
  Result<void> (*allocate)(HostFile& file, uint64_t size);
};

// The preallocation modes raw supports, named as qemu-img names them.
constexpr std::array<Preallocation, 3> kPreallocations = {{
    {"off", allocate_nothing},            // a sparse file: one hole
    {"falloc", allocate_with_fallocate},  // blocks reserved (fallocate), reading as zeros
    {"full", allocate_by_writing},        // blocks reserved and written with zeros
}};

// Guest disks are made of 512-byte sectors: sizes are rounded up to a whole sector, as
// qemu-img does for raw images.
constexpr uint64_t kSectorSize = 512;

Result<void> create_raw(const CreateOptions& options) {
  if (!options.backing_file.empty()) {
    return make_error("raw images cannot have a backing file (use a format such as qcow2)");
  }
  std::string_view mode = "off";
  if (auto it = options.options.find("preallocation"); it != options.options.end()) {
    mode = it->second;
  }
  const Preallocation* preallocation = nullptr;
  for (const Preallocation& candidate : kPreallocations) {
    if (candidate.name == mode) preallocation = &candidate;
  }
  if (preallocation == nullptr) {
    return make_error("raw: unknown preallocation mode '{}' (off, falloc, full)", mode);
  }
  if (options.size > uint64_t{INT64_MAX} - kSectorSize) {
    return make_error("raw: size {} is too large", options.size);
  }
  const uint64_t size = align_up(options.size, kSectorSize);
  CELLA_TRY_ASSIGN(file, HostFile::create(options.path));
  CELLA_TRY(file.truncate(size));
  CELLA_TRY(preallocation->allocate(file, size));
  return file.flush();
}

}  // namespace

FormatDriver raw_format_driver() {
  return FormatDriver{
      .name = "raw",
      .probe = probe_raw,
      .open = open_raw,
      .create = create_raw,
      .create_option_names = {"preallocation"},
      .create_option_help = {{"preallocation",
                              "off (sparse), falloc (reserve blocks) or full (write zeros); "
                              "default off"}},
  };
}

}  // namespace cella::block
