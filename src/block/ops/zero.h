// Zero detection and reads that treat what lies past an image's end as zeros.
#pragma once

#include <cstdint>
#include <span>

#include "block/block_image.h"

namespace cella::block::ops {

bool is_zero(std::span<const uint8_t> data);

// Offset of the first non-zero byte of data, or data.size() when all are zero.
size_t first_nonzero(std::span<const uint8_t> data);

// Reads [offset, offset+out.size()) of image; bytes past its end, or all of them when image is
// null, read as zeros (a shorter or absent backing image reads as zeros).
Result<void> read_zero_filled(BlockImage* image, uint64_t offset, std::span<uint8_t> out);

}  // namespace cella::block::ops
