// The VHD entry of the format table (qemu-img calls the format "vpc").
#pragma once

#include "block/format_registry.h"

namespace cella::block::vhd {

FormatDriver driver();

}  // namespace cella::block::vhd
