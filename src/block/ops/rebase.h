// Changing an overlay's backing image (`cella img rebase`).
#pragma once

#include <string>

#include "block/block_image.h"
#include "block/ops/progress.h"

namespace cella::block::ops {

struct RebaseTarget {
  BlockImage* image = nullptr;  // the new backing image, opened; null: no backing (standalone)
  std::string file;             // as it will be recorded in the overlay
  std::string format;
};

// Safe rebase: makes the overlay read exactly as before over the new backing image, by
// copying into it every range it does not allocate where the old chain and the new backing
// differ, then records the new backing file. The overlay must be open read-write with its
// old backing chain.
Result<void> rebase(BlockImage& overlay, const RebaseTarget& target, const Progress& progress);

}  // namespace cella::block::ops
