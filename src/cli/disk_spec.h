// `cella run --disk PATH[,format=FMT][,readonly=on|off][,serial=ID]`: a disk specification.
// A comma inside the path is written twice (",,"), as in QEMU's option syntax.
#pragma once

#include <string_view>

#include "base/result.h"
#include "machine/machine_config.h"

namespace cella::cli {

// Refuses an empty path, unknown or repeated keys, an unknown format, a bad boolean and a
// serial longer than 20 bytes (virtio 1.2 5.2.6, VIRTIO_BLK_ID_BYTES), each with a message
// that names the problem.
Result<machine::DiskConfig> parse_disk_spec(std::string_view spec);

// --console serial|virtio
Result<machine::ConsoleDevice> parse_console_device(std::string_view text);

}  // namespace cella::cli
