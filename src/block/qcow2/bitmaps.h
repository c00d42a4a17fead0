// Persistent dirty bitmaps ("== Bitmaps =="): Cella does not maintain them. It finds the clusters
// they occupy, so that check counts them while they are valid, and so that opening an image for
// writing can drop them (their autoclear bit says they would be stale) and free their space.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "block/qcow2/header.h"
#include "block/qcow2/layout.h"
#include "block/qcow2/storage.h"

namespace cella::block::qcow2 {

struct HostRange {
  uint64_t offset = 0;
  uint64_t bytes = 0;
};

// The bitmap directory, bitmap tables and bitmap data clusters. Parts that lie outside the file
// are skipped and described in `problems`.
Result<std::vector<HostRange>> bitmap_ranges(const Storage& storage, const BitmapsExtension& ext,
                                             const Layout& layout, uint64_t file_size,
                                             std::vector<std::string>& problems);

}  // namespace cella::block::qcow2
