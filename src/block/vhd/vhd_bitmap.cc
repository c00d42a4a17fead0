// Sector bitmaps of allocated blocks ([VHD] "Block Allocation Table and Data Blocks"), read on
// demand and cached.
#include <algorithm>

#include "base/bits.h"
#include "block/vhd/vhd_image.h"

namespace cella::block::vhd {

namespace {

constexpr uint64_t kBitmapCacheBytes = 8 << 20;

}  // namespace

Result<std::vector<uint8_t>*> VhdImage::bitmap(uint64_t block) {
  if (auto it = bitmaps_.find(block); it != bitmaps_.end()) return &it->second;
  const int64_t base = block_offset(block);
  if (base < 0) return make_error("block {} has no sector bitmap: it is not allocated", block);
  if ((bitmaps_.size() + 1) * bitmap_bytes_ > kBitmapCacheBytes) bitmaps_.clear();
  std::vector<uint8_t> bits(bitmap_bytes_);
  CELLA_TRY(file_.read(static_cast<uint64_t>(base), bits));
  return &bitmaps_.emplace(block, std::move(bits)).first->second;
}

Result<void> VhdImage::set_bitmap_bits(uint64_t block, uint64_t first_sector, uint64_t count,
                                       bool value) {
  if (count == 0) return ok();
  CELLA_TRY_ASSIGN(bits, bitmap(block));
  bool changed = false;
  for (uint64_t sector = first_sector; sector < first_sector + count; ++sector) {
    uint8_t& byte = (*bits)[sector / 8];
    const uint8_t mask = static_cast<uint8_t>(0x80 >> (sector % 8));
    const uint8_t updated = value ? (byte | mask) : (byte & ~mask);
    changed |= updated != byte;
    byte = updated;
  }
  if (!changed) return ok();
  // Rewrite the whole bitmap sectors that changed.
  const uint64_t begin = align_down(first_sector / 8, kSectorSize);
  const uint64_t end =
      std::min<uint64_t>(align_up((first_sector + count + 7) / 8, kSectorSize), bitmap_bytes_);
  return file_.write(static_cast<uint64_t>(block_offset(block)) + begin,
                     std::span<const uint8_t>(bits->data() + begin, end - begin));
}

}  // namespace cella::block::vhd
