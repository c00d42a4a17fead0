// Progress reporting and chunked iteration shared by the image operations.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>

#include "base/result.h"

namespace cella::block::ops {

// Called after each chunk with the bytes done so far and the total; may be empty.
using Progress = std::function<void(uint64_t done, uint64_t total)>;

// The unit of work of every operation: big enough to amortize per-call costs, small enough to
// keep buffers modest and progress smooth.
inline constexpr uint64_t kChunkSize = 2 << 20;

// Calls fn(offset, length) for consecutive chunks of [0, total), reporting progress after each.
template <class Fn>
Result<void> for_each_chunk(uint64_t total, uint64_t chunk, const Progress& progress, Fn&& fn) {
  for (uint64_t offset = 0; offset < total;) {
    const uint64_t length = std::min(chunk, total - offset);
    CELLA_TRY(fn(offset, length));
    offset += length;
    if (progress) progress(offset, total);
  }
  if (total == 0 && progress) progress(0, 0);
  return ok();
}

}  // namespace cella::block::ops
