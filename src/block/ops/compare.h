// Comparing the content of two images (`cella img compare`).
#pragma once

#include <cstdint>

#include "block/block_image.h"
#include "block/ops/progress.h"

namespace cella::block::ops {

struct CompareOptions {
  // `-s`: sizes must match and every range must have the same allocation status (allocated
  // somewhere in the chain or not), not only the same content.
  bool strict = false;
  Progress progress;
};

enum class Difference {
  kNone,
  kContent,     // the bytes at `offset` differ (past the smaller image's end: not zero)
  kAllocation,  // strict: allocated in one image and not in the other, from `offset`
  kSize,        // strict: the sizes differ
};

struct Comparison {
  Difference difference = Difference::kNone;
  uint64_t offset = 0;         // the first differing byte
  bool size_mismatch = false;  // the sizes differ (not an error unless strict)
};

// Compares what a guest would read from a and from b. Without strict, a larger image must
// read as zeros past the smaller one's end.
Result<Comparison> compare(BlockImage& a, BlockImage& b, const CompareOptions& options);

}  // namespace cella::block::ops
