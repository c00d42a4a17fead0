// Creating VHD images: `cella img create -f vhd` with -o subformat=dynamic|fixed,
// block_size=<size>, force_size=on|off, and -b <parent> for a differencing disk.
#pragma once

#include "base/result.h"
#include "block/format_registry.h"

namespace cella::block::vhd {

Result<void> create_vhd(const CreateOptions& options);

// The creator application Cella writes ([VHD] "Hard Disk Footer Format", Creator Application).
inline constexpr char kCreatorApplication[4] = {'c', 'e', 'l', 'a'};

}  // namespace cella::block::vhd
