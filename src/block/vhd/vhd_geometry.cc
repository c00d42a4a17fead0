#include "block/vhd/vhd_geometry.h"

#include <algorithm>
#include <cstring>

#include "base/bits.h"

namespace cella::block::vhd {

Geometry geometry_for_sectors(uint64_t total_sectors) {
  // [VHD] "Appendix: CHS Calculation", step by step.
  total_sectors = std::min(total_sectors, kMaxGeometry.total_sectors());
  uint64_t sectors_per_track, heads, cylinder_times_heads;
  if (total_sectors >= uint64_t{65535} * 16 * 63) {
    sectors_per_track = 255;
    heads = 16;
    cylinder_times_heads = total_sectors / sectors_per_track;
  } else {
    sectors_per_track = 17;
    cylinder_times_heads = total_sectors / sectors_per_track;
    heads = (cylinder_times_heads + 1023) / 1024;
    if (heads < 4) heads = 4;
    if (cylinder_times_heads >= heads * 1024 || heads > 16) {
      sectors_per_track = 31;
      heads = 16;
      cylinder_times_heads = total_sectors / sectors_per_track;
    }
    if (cylinder_times_heads >= heads * 1024) {
      sectors_per_track = 63;
      heads = 16;
      cylinder_times_heads = total_sectors / sectors_per_track;
    }
  }
  return Geometry{static_cast<uint16_t>(cylinder_times_heads / heads), static_cast<uint8_t>(heads),
                  static_cast<uint8_t>(sectors_per_track)};
}

Result<SizePlan> plan_size(uint64_t requested, bool force_size) {
  if (requested == 0) return make_error("a VHD image needs a size above zero");
  if (requested > kMaxDiskSize) {
    return make_error("{} bytes is above the VHD maximum of 2040 GiB", requested);
  }
  const uint64_t sectors = align_up(requested, kSectorSize) / kSectorSize;
  SizePlan plan{sectors * kSectorSize, kMaxGeometry};
  if (force_size) return plan;
  // Grow the sector count handed to the CHS algorithm until the geometry covers the request;
  // the search is bounded by one track of one cylinder per head (at most 16 * 255 steps).
  const uint64_t max_sectors = kMaxGeometry.total_sectors();
  Geometry geometry = geometry_for_sectors(sectors);
  for (uint64_t extra = 1; geometry.total_sectors() < sectors && sectors + extra <= max_sectors;
       ++extra) {
    geometry = geometry_for_sectors(sectors + extra);
  }
  if (geometry.total_sectors() >= sectors && geometry != kMaxGeometry) {
    plan = SizePlan{geometry.total_sectors() * kSectorSize, geometry};
  }
  return plan;
}

uint64_t virtual_size(const Footer& footer) {
  // Programs known to size disks by geometry (qemu's vpc driver documents the same table);
  // Hyper-V ("win "), Disk2vhd ("d2v "), XenServer ("tap\0"), XenConverter ("CTXS"), newer qemu
  // ("qem2") and Cella ("cela") use Current Size.
  static constexpr const char* kGeometrySized[] = {"vpc ", "vs  ", "qemu"};
  const bool by_geometry = std::any_of(
      std::begin(kGeometrySized), std::end(kGeometrySized),
      [&](const char* app) { return std::memcmp(footer.creator_application.data(), app, 4) == 0; });
  if (!by_geometry || footer.geometry == kMaxGeometry) return footer.current_size;
  return std::min(footer.current_size, footer.geometry.total_sectors() * kSectorSize);
}

}  // namespace cella::block::vhd
