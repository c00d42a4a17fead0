#include "block/vhd/vhd_driver.h"

#include <cstring>

#include "block/vhd/vhd_create.h"
#include "block/vhd/vhd_image.h"

namespace cella::block::vhd {

namespace {

// Dynamic and differencing disks start with a copy of the footer ([VHD] "Dynamic Disk Header
// Format"). A fixed disk has only its footer at the end, which the probe cannot see (like
// qemu, Cella opens it as raw unless the format is named): open it with -f vhd.
int probe(std::span<const uint8_t> head, uint64_t /*file_size*/) {
  if (head.size() >= kFooterSize && std::memcmp(head.data(), "conectix", 8) == 0) return 100;
  return 0;
}

}  // namespace

FormatDriver driver() {
  return FormatDriver{
      "vhd", probe, VhdImage::open, create_vhd, {"subformat", "block_size", "force_size"}};
}

}  // namespace cella::block::vhd
