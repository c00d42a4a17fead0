// The VHDX entry of the format table.
#pragma once

#include "block/format_registry.h"

namespace cella::block::vhdx {

FormatDriver driver();

}  // namespace cella::block::vhdx
