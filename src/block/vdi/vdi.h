// The VDI format driver (VirtualBox disk images): dynamic, static and differencing images.
#pragma once

#include "block/format_registry.h"

namespace cella::block::vdi {

FormatDriver vdi_format();

int probe_vdi(std::span<const uint8_t> head, uint64_t file_size);
Result<std::unique_ptr<BlockImage>> open_vdi(HostFile file, const OpenOptions& options);
Result<void> create_vdi(const CreateOptions& options);

}  // namespace cella::block::vdi
