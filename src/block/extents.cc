#include "block/extents.h"

#include <algorithm>

#include "block/host_file.h"

namespace cella::block {

void append_extent(std::vector<Extent>& extents, Extent extent) {
  if (extent.length == 0) return;
  if (!extents.empty()) {
    Extent& last = extents.back();
    const bool contiguous = last.offset + last.length == extent.offset;
    const bool same_place =
        last.host_offset < 0
            ? extent.host_offset < 0
            : extent.host_offset == last.host_offset + static_cast<int64_t>(last.length);
    if (contiguous && last.kind == extent.kind && last.depth == extent.depth &&
        last.host_file == extent.host_file && same_place) {
      last.length += extent.length;
      return;
    }
  }
  extents.push_back(std::move(extent));
}

Result<void> append_backing_extents(std::vector<Extent>& extents, BlockImage* backing,
                                    uint64_t offset, uint64_t length) {
  if (backing == nullptr) {
    append_extent(extents, make_extent(offset, length, ExtentKind::kUnallocated, 0));
    return ok();
  }
  const uint64_t backing_size = backing->size();
  const uint64_t inside = offset < backing_size ? std::min(length, backing_size - offset) : 0;
  if (inside > 0) {
    CELLA_TRY_ASSIGN(below, backing->map(offset, inside));
    for (Extent& extent : below) {
      extent.depth += 1;
      append_extent(extents, std::move(extent));
    }
  }
  if (inside < length) {
    append_extent(extents,
                  make_extent(offset + inside, length - inside, ExtentKind::kUnallocated, 1));
  }
  return ok();
}

Result<void> append_flat_extents(std::vector<Extent>& extents, const HostFile& file,
                                 uint64_t offset, uint64_t length, uint64_t host_offset) {
  CELLA_TRY_ASSIGN(file_size, file.size());
  uint64_t at = host_offset;
  const uint64_t end = host_offset + length;
  while (at < end) {
    // Past the end of the file, or before the next data: a hole, which reads as zeros.
    uint64_t data = end;
    if (at < file_size) {
      CELLA_TRY_ASSIGN(next, file.next_data(at));
      data = std::min(std::max(next, at), end);
    }
    if (data > at) {
      append_extent(extents,
                    make_extent(offset + (at - host_offset), data - at, ExtentKind::kZero, 0));
      at = data;
      continue;
    }
    CELLA_TRY_ASSIGN(hole, file.next_hole(at));
    const uint64_t data_end = std::min(std::max(hole, at + 1), end);
    append_extent(extents,
                  make_extent(offset + (at - host_offset), data_end - at, ExtentKind::kData, 0,
                              static_cast<int64_t>(at), file.path()));
    at = data_end;
  }
  return ok();
}

}  // namespace cella::block
