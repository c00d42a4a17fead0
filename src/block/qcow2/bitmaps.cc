#include "block/qcow2/bitmaps.h"

#include <fmt/format.h>

#include "base/bits.h"

namespace cella::block::qcow2 {

namespace {

constexpr uint64_t kMaxDirectoryBytes = 64ull << 20;
constexpr uint32_t kDirectoryEntryFixedSize = 24;

bool inside(uint64_t offset, uint64_t bytes, uint64_t file_size) {
  return offset < file_size && bytes <= file_size - offset;
}

}  // namespace

Result<std::vector<HostRange>> bitmap_ranges(const Storage& storage, const BitmapsExtension& ext,
                                             const Layout& layout, uint64_t file_size,
                                             std::vector<std::string>& problems) {
  std::vector<HostRange> ranges;
  if (ext.directory_offset % layout.cluster_size != 0 || ext.directory_size > kMaxDirectoryBytes ||
      !inside(ext.directory_offset, ext.directory_size, file_size)) {
    problems.push_back(
        fmt::format("the bitmap directory ({} bytes at {:#x}) is not inside the file",
                    ext.directory_size, ext.directory_offset));
    return ranges;
  }
  ranges.push_back({ext.directory_offset, ext.directory_size});
  std::vector<uint8_t> dir(ext.directory_size);
  CELLA_TRY(storage.read(ext.directory_offset, dir));
  // "=== Bitmap directory ===": 24 fixed bytes, extra data, name, padding to 8.
  uint64_t at = 0;
  for (uint32_t i = 0; i < ext.nb_bitmaps && at + kDirectoryEntryFixedSize <= dir.size(); ++i) {
    const uint64_t table_offset = load_be<uint64_t>(&dir[at]);
    const uint64_t table_entries = load_be<uint32_t>(&dir[at + 8]);
    const uint64_t name_size = load_be<uint16_t>(&dir[at + 18]);
    const uint64_t extra_size = load_be<uint32_t>(&dir[at + 20]);
    at += align_up(kDirectoryEntryFixedSize + extra_size + name_size, 8);
    if (table_entries == 0) continue;
    const uint64_t table_bytes = table_entries * 8;
    if (table_offset % layout.cluster_size != 0 || !inside(table_offset, table_bytes, file_size)) {
      problems.push_back(
          fmt::format("bitmap {}: its table ({} entries at {:#x}) is not inside "
                      "the file",
                      i, table_entries, table_offset));
      continue;
    }
    ranges.push_back({table_offset, table_bytes});
    std::vector<uint8_t> table(table_bytes);
    CELLA_TRY(storage.read(table_offset, table));
    for (uint64_t k = 0; k < table_entries; ++k) {
      // "=== Bitmap table ===": bits 9-55 the data cluster; 0 for all-zero or all-one clusters.
      const uint64_t data = load_be<uint64_t>(&table[k * 8]) & kL2OffsetMask;
      if (data != 0 && inside(data, 1, file_size)) ranges.push_back({data, layout.cluster_size});
    }
  }
  return ranges;
}

}  // namespace cella::block::qcow2
