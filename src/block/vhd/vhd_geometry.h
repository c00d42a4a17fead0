// VHD disk geometry and the virtual size it implies: [VHD] "Appendix: CHS Calculation", and the
// size policies of the programs that write VHD files.
#pragma once

#include <cstdint>

#include "base/result.h"
#include "block/vhd/vhd_format.h"

namespace cella::block::vhd {

// The largest geometry the footer can hold: 65535 cylinders, 16 heads, 255 sectors per track.
inline constexpr Geometry kMaxGeometry{65535, 16, 255};
// BAT entries are 32-bit sector offsets ([VHD] "Block Allocation Table"), so a dynamic file must
// end below 2 TiB; Microsoft's products and qemu cap VHD disks at 2040 GiB, and so does Cella.
inline constexpr uint64_t kMaxDiskSize = uint64_t{2040} << 30;

// [VHD] "Appendix: CHS Calculation", for a disk of total_sectors sectors (capped at the
// maximum geometry). The geometry's capacity never exceeds total_sectors.
Geometry geometry_for_sectors(uint64_t total_sectors);

struct SizePlan {
  uint64_t size = 0;  // the virtual size the footer records (Current Size)
  Geometry geometry;
};

// The size a new image gets for a requested size, as qemu-img does it: the request is rounded
// up to whole sectors; then, unless force_size, up to the first geometry whose capacity covers
// it (Virtual PC sizes disks by geometry, so the footer's size and its geometry agree). When no
// geometry covers the request (disks above ~127 GiB) or with force_size, the exact size is kept
// with the maximum geometry, which tells readers to trust Current Size.
Result<SizePlan> plan_size(uint64_t requested, bool force_size);

// The virtual size of an existing image: Current Size, except for images from the programs
// that size disks by geometry (Virtual PC, Virtual Server, qemu before "qem2") whose geometry is
// not the maximum: there the geometry's capacity is the disk, as those programs read it. Never
// more than Current Size, which bounds the data area.
uint64_t virtual_size(const Footer& footer);

}  // namespace cella::block::vhd
