#include "block/vmdk/disk_extent.h"

#include <algorithm>
#include <vector>

namespace cella::block::vmdk {

Result<void> DiskExtent::write_zeroes(uint64_t offset, uint64_t length, bool, bool,
                                      const Background& background) {
  static constexpr uint64_t kChunk = 1 << 20;
  const std::vector<uint8_t> zeros(std::min(length, kChunk), 0);
  while (length > 0) {
    const uint64_t n = std::min(length, kChunk);
    CELLA_TRY(write(offset, std::span<const uint8_t>(zeros.data(), n), background));
    offset += n;
    length -= n;
  }
  return ok();
}

Result<void> DiskExtent::discard(uint64_t, uint64_t) {
  return ok();
}

Result<void> DiskExtent::check(CheckReport&, bool) {
  return ok();
}

}  // namespace cella::block::vmdk
