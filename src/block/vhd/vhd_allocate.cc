// Block allocation and release in dynamic and differencing VHDs, ordered so that a crash at any
// instant leaves an image that opens with nothing flushed lost:
//   1. a new block at the end of the file first writes the footer past it, so the file always
//      ends with a valid footer ([VHD] "Hard Disk Footer Format": the footer is the last 512
//      bytes), then the block's bitmap over the old footer;
//   2. the block's data and bitmap are flushed before the BAT entry names it, so a BAT entry
//      never points at a block that is not there (a crash in between leaks the block);
//   3. a released block leaves the BAT, durably, before its space is reused.
#include <algorithm>

#include "base/bits.h"
#include "block/vhd/vhd_image.h"

namespace cella::block::vhd {

Result<void> VhdImage::write_footer_at(uint64_t offset) {
  const auto bytes = serialize_footer(footer_);
  return file_.write(offset, bytes);
}

Result<void> VhdImage::write_footers() {
  CELLA_TRY(write_footer_at(footer_offset_));
  if (sparse()) CELLA_TRY(write_footer_at(0));
  return ok();
}

Result<uint64_t> VhdImage::allocate_block(uint64_t block, bool data_present) {
  uint64_t offset;
  if (auto reused = free_.take(block_footprint(), kSectorSize)) {
    offset = *reused;
    // A gap may hold an old block's data: make its data area read as zeros.
    CELLA_TRY(file_.punch_hole(offset + bitmap_bytes_, block_size_));
  } else {
    offset = footer_offset_;
    const uint64_t new_footer = footer_offset_ + block_footprint();
    // BAT entries are 32-bit sector numbers ([VHD] "Block Allocation Table").
    if ((offset / kSectorSize) >= kUnusedBatEntry) {
      return make_error("the image file cannot grow past 2 TiB (VHD BAT entries are 32-bit)");
    }
    CELLA_TRY(write_footer_at(new_footer));
    footer_offset_ = new_footer;
  }
  std::vector<uint8_t> bits(bitmap_bytes_, data_present ? 0xFF : 0x00);
  CELLA_TRY(file_.write(offset, bits));
  pending_[block] = offset;
  bitmaps_[block] = std::move(bits);
  return offset;
}

Result<void> VhdImage::commit_blocks(const std::vector<uint64_t>& blocks) {
  if (blocks.empty()) return ok();
  CELLA_TRY(file_.flush());
  for (uint64_t block : blocks) {
    bat_[block] = static_cast<uint32_t>(pending_.at(block) / kSectorSize);
    pending_.erase(block);
  }
  // One write per run of consecutive blocks.
  size_t i = 0;
  while (i < blocks.size()) {
    size_t j = i + 1;
    while (j < blocks.size() && blocks[j] == blocks[j - 1] + 1) ++j;
    CELLA_TRY(write_bat_entries(blocks[i], j - i));
    i = j;
  }
  return ok();
}

Result<void> VhdImage::write_bat_entries(uint64_t first, uint64_t count) {
  // Whole sectors of the table (128 entries each).
  constexpr uint64_t kPerSector = kSectorSize / 4;
  const uint64_t begin = align_down(first, kPerSector);
  const uint64_t end = align_up(first + count, kPerSector);
  std::vector<uint8_t> bytes((end - begin) * 4, 0xFF);
  for (uint64_t i = begin; i < end && i < bat_.size(); ++i) {
    store_be<uint32_t>(&bytes[(i - begin) * 4], bat_[i]);
  }
  const uint64_t table_bytes = align_up(uint64_t{header_.max_table_entries} * 4, kSectorSize);
  const uint64_t length = std::min<uint64_t>(bytes.size(), table_bytes - begin * 4);
  return file_.write(header_.table_offset + begin * 4, std::span(bytes).first(length));
}

Result<void> VhdImage::discard(uint64_t offset, uint64_t length) {
  if (read_only()) return make_error("{}: the image is open read-only", path());
  CELLA_TRY(check_range("discard", offset, length));
  if (length == 0) return ok();                            // fallocate refuses empty ranges
  if (!sparse()) return file_.punch_hole(offset, length);  // fixed: the host file gets a hole
  std::vector<uint64_t> released;
  const uint64_t end = offset + length;
  uint64_t at = offset;
  while (at < end) {
    const uint64_t block = at / block_size_;
    const uint64_t block_start = block * block_size_;
    const uint64_t block_end = std::min(end, block_start + block_size_);
    CELLA_TRY(check_block_usable(block));
    const int64_t base = block_offset(block);
    const bool whole =
        at == block_start && (block_end == block_start + block_size_ || block_end == size_);
    if (base >= 0 && whole) {
      released.push_back(block);
    } else if (base >= 0) {
      // Whole sectors only: they leave the bitmap (reading as zeros in a dynamic disk, as the
      // parent in a differencing one), then their data is punched out.
      const uint64_t first = align_up(at - block_start, kSectorSize) / kSectorSize;
      const uint64_t last = align_down(block_end - block_start, kSectorSize) / kSectorSize;
      if (last > first) {
        CELLA_TRY(set_bitmap_bits(block, first, last - first, false));
        CELLA_TRY(
            file_.punch_hole(static_cast<uint64_t>(base) + bitmap_bytes_ + first * kSectorSize,
                             (last - first) * kSectorSize));
      }
    }
    at = block_end;
  }
  return release_blocks(released);
}

Result<void> VhdImage::release_blocks(const std::vector<uint64_t>& blocks) {
  if (blocks.empty()) return ok();
  std::vector<uint64_t> offsets;
  for (uint64_t block : blocks) {
    offsets.push_back(static_cast<uint64_t>(block_offset(block)));
    bat_[block] = kUnusedBatEntry;
    bitmaps_.erase(block);
    CELLA_TRY(write_bat_entries(block, 1));
  }
  CELLA_TRY(file_.flush());  // out of the BAT for good before the space is reused
  for (uint64_t freed : offsets) {
    CELLA_TRY(file_.punch_hole(freed, block_footprint()));
    free_.add(freed, block_footprint());
  }
  return ok();
}

Result<void> VhdImage::write_zeroes(uint64_t offset, uint64_t length, bool may_unmap) {
  if (read_only()) return make_error("{}: the image is open read-only", path());
  CELLA_TRY(check_range("write-zeroes", offset, length));
  if (!may_unmap || differencing()) return BlockImage::write_zeroes(offset, length, may_unmap);
  // Fixed and dynamic disks read discarded sectors as zeros: discard the whole sectors, write
  // zeros over the partial ones at the edges.
  const uint64_t end = offset + length;
  const uint64_t inner_begin = std::min(end, align_up(offset, kSectorSize));
  const uint64_t inner_end = std::max(inner_begin, align_down(end, kSectorSize));
  CELLA_TRY(BlockImage::write_zeroes(offset, inner_begin - offset, false));
  CELLA_TRY(discard(inner_begin, inner_end - inner_begin));
  return BlockImage::write_zeroes(inner_end, end - inner_end, false);
}

Result<void> VhdImage::make_empty() {
  if (!differencing()) return make_error("{}: not a differencing disk", path());
  // Every block leaves the BAT: the whole disk reads from the parent again.
  return discard(0, size_);
}

}  // namespace cella::block::vhd
