// Copying one image's content into another, whatever their formats (`cella img convert`).
#pragma once

#include <cstdint>

#include "block/block_image.h"
#include "block/ops/progress.h"

namespace cella::block::ops {

struct ConvertOptions {
  // `-S`: data blocks of this many bytes (aligned to it) that hold only zeros are not written,
  // so the target stays sparse. 0 writes every byte, zeros included: a fully allocated target.
  uint64_t min_sparse = 4096;
  // `-c`: write whole clusters through write_compressed() (the target format must support it).
  bool compress = false;
  // `-B`: the target's backing image already holds the source's backing content, so only what
  // the source's top image allocates is copied.
  bool top_only = false;
  // The target reads as zeros everywhere before the copy (a new image without a backing
  // file). When false (`-n`, or a target with a backing file), zero ranges are written as zeros.
  bool target_zeroed = true;
  Progress progress;
};

// Copies source's content (through its backing chain unless top_only) into target, which must
// be at least as large; flushes the target at the end.
Result<void> convert(BlockImage& source, BlockImage& target, const ConvertOptions& options);

}  // namespace cella::block::ops
