// Helpers for building BlockImage::map() answers.
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "block/block_image.h"

namespace cella::block {

inline Extent make_extent(uint64_t offset, uint64_t length, ExtentKind kind, int depth = 0,
                          int64_t host_offset = -1, std::string host_file = {}) {
  return Extent{offset, length, kind, depth, host_offset, std::move(host_file)};
}

// Appends `extent`, merging it into the last one when it continues it (same kind, depth and
// file, and for data, the next host offset).
void append_extent(std::vector<Extent>& extents, Extent extent);

// What lies below an image at [offset, offset+length) where it allocates nothing: the backing
// image's map one level deeper (unallocated past its end), or, without a backing image (none,
// or not opened), unallocated at this depth.
Result<void> append_backing_extents(std::vector<Extent>& extents, BlockImage* backing,
                                    uint64_t offset, uint64_t length);

// Host-level sparseness of a flat data area: [offset, offset+length) of the disk stored at
// host_offset in `file` gives kData where the host file has data and kZero over holes.
class HostFile;
Result<void> append_flat_extents(std::vector<Extent>& extents, const HostFile& file,
                                 uint64_t offset, uint64_t length, uint64_t host_offset);

}  // namespace cella::block
