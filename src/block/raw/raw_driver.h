// The raw format: the file is the disk, byte for byte. Sparse-aware: holes in the host file are
// reported as zero extents and discards punch holes.
#pragma once

#include "block/format_registry.h"

namespace cella::block {

FormatDriver raw_format_driver();

}  // namespace cella::block
