// The VMDK format driver (VMware Virtual Disk Format 1.1): monolithicSparse, monolithicFlat,
// twoGbMaxExtentSparse/Flat and streamOptimized disks, with delta (child) disks.
#pragma once

#include "block/format_registry.h"

namespace cella::block::vmdk {

FormatDriver vmdk_format();

// The parts of the driver, one file each.
int probe_vmdk(std::span<const uint8_t> head, uint64_t file_size);
Result<std::unique_ptr<BlockImage>> open_vmdk(HostFile file, const OpenOptions& options);
Result<void> create_vmdk(const CreateOptions& options);

}  // namespace cella::block::vmdk
