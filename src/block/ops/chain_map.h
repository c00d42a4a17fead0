// Allocation maps through a backing chain, as `qemu-img map` reports them.
#pragma once

#include <cstdint>
#include <vector>

#include "block/block_image.h"

namespace cella::block::ops {

// The image's own map (image.map()), checked to tile [offset, offset+length) exactly: a format
// that breaks that contract gives an error rather than a wrong copy.
Result<std::vector<Extent>> map_image(BlockImage& image, uint64_t offset, uint64_t length);

// The map of [offset, offset+length) with every kUnallocated range resolved down the backing
// chain: each extent names the depth that answers it. kUnallocated extents that remain are
// allocated nowhere in the chain (they read as zeros; `present: false` in qemu-img's words).
// Adjacent extents with the same status and contiguous host offsets are merged.
Result<std::vector<Extent>> map_chain(BlockImage& image, uint64_t offset, uint64_t length);

// True for an extent that the image itself (depth 0) allocates, as data or as zeros that hide
// the backing image.
inline bool in_top_image(const Extent& extent) {
  return extent.depth == 0 && extent.kind != ExtentKind::kUnallocated;
}

// True when [offset, offset+length) of image (null: no image, reads as zeros) is known to read
// as zeros from its map alone, without reading data. Past the image's end reads as zeros.
Result<bool> known_zero(BlockImage* image, uint64_t offset, uint64_t length);

// Appends extent to extents, merging it into the last one when they continue each other.
void append_extent(std::vector<Extent>& extents, Extent extent);

}  // namespace cella::block::ops
