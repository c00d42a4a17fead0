// Committing an overlay's changes into its backing image (`cella img commit`).
#pragma once

#include "block/block_image.h"
#include "block/ops/progress.h"

namespace cella::block::ops {

struct CommitOptions {
  // `-d`: leave the overlay's clusters in place. By default the overlay is emptied afterwards
  // (make_empty()), so that it reads everything from the updated backing image again.
  bool keep_overlay = false;
  Progress progress;
};

// Copies every range the overlay allocates (data and explicit zeros) into its backing image,
// which must have been opened writable (OpenOptions::backing_writable). A shorter backing
// image is grown to the overlay's size first.
Result<void> commit(BlockImage& overlay, const CommitOptions& options);

}  // namespace cella::block::ops
