// Splitting a byte range of a disk into the pieces that fall in each fixed-size block, for
// formats whose data is allocated block by block (VHD, VHDX).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "base/result.h"

namespace cella::block {

// Calls f(block, offset_in_block, done, length) for each piece of [offset, offset + size), in
// order, where `done` is the piece's position in the range; stops at the first error.
template <class F>
Result<void> for_each_block_piece(uint64_t offset, size_t size, uint64_t block_size, F&& f) {
  size_t done = 0;
  while (done < size) {
    const uint64_t at = offset + done;
    const uint64_t in_block = at % block_size;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(block_size - in_block, size - done));
    CELLA_TRY(f(at / block_size, in_block, done, n));
    done += n;
  }
  return ok();
}

}  // namespace cella::block
