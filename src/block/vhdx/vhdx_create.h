// Creating VHDX images: `cella img create -f vhdx` with -o subformat=dynamic|fixed,
// block_size=<size>, log_size=<size>, block_state_zero=on|off, and -b <parent> for a
// differencing image.
#pragma once

#include "base/result.h"
#include "block/format_registry.h"

namespace cella::block::vhdx {

Result<void> create_vhdx(const CreateOptions& options);

}  // namespace cella::block::vhdx
