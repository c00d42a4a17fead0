// Writes to VHDX images. Data goes straight to allocated blocks; a write into a block that is
// not allocated first allocates it (and, in a differencing image, the chunk's sector bitmap
// block), writes the data, and only then changes the BAT, through the log: the log writer
// flushes the data before the entry that names it, so a crash leaves either the old BAT (the
// new block leaked) or the new one with its data in place.
#include <algorithm>
#include <cstring>

#include "base/bits.h"
#include "block/block_pieces.h"
#include "block/vhdx/vhdx_image.h"

namespace cella::block::vhdx {

namespace {

constexpr uint64_t kBitmapPageSize = 4096;
constexpr uint64_t kSectorsPerPage = kBitmapPageSize * 8;
constexpr uint64_t kPagesPerBitmapBlock = kSectorBitmapBlockSize / kBitmapPageSize;

bool allocated(uint8_t state) {
  return state == static_cast<uint8_t>(PayloadState::kFullyPresent) ||
         state == static_cast<uint8_t>(PayloadState::kPartiallyPresent);
}

}  // namespace

void VhdxImage::set_entry(uint64_t index, uint64_t value, std::vector<uint64_t>& changed) {
  bat_[index] = value;
  changed.push_back(index);
}

Result<uint64_t> VhdxImage::allocate(uint64_t length) {
  if (auto gap = free_.take(length, kAlignment)) {
    // Reused space may hold an old block: it must read as zeros.
    CELLA_TRY(file_.punch_hole(*gap, length));
    return *gap;
  }
  const uint64_t offset = file_end_;
  file_end_ += length;
  CELLA_TRY(file_.truncate(file_end_));
  return offset;
}

Result<void> VhdxImage::commit_entries(const std::vector<uint64_t>& entries) {
  if (entries.empty()) return ok();
  std::vector<uint64_t> pages;
  for (uint64_t index : entries) pages.push_back(index * 8 / kLogSector);
  std::sort(pages.begin(), pages.end());
  pages.erase(std::unique(pages.begin(), pages.end()), pages.end());
  std::vector<PageUpdate> updates;
  for (uint64_t page : pages) {
    PageUpdate update;
    update.file_offset = bat_region_.file_offset + page * kLogSector;
    for (uint64_t i = 0; i < kLogSector / 8; ++i) {
      store_le<uint64_t>(update.bytes.data() + i * 8, bat_[page * (kLogSector / 8) + i]);
    }
    updates.push_back(update);
  }
  return log_.write(file_, updates, file_end_);
}

Result<void> VhdxImage::set_sector_bits(uint64_t first_sector, uint64_t count, bool value) {
  uint64_t sector = first_sector;
  const uint64_t end = first_sector + count;
  while (sector < end) {
    const uint64_t chunk = sector / kSectorsPerBitmapBlock;
    const uint64_t bit = sector % kSectorsPerBitmapBlock;
    const uint64_t page = bit / kSectorsPerPage;
    CELLA_TRY(bitmap_page(chunk, page));
    std::vector<uint8_t>& bytes = bitmap_pages_.at(chunk * kPagesPerBitmapBlock + page);
    const uint64_t page_end = std::min(end, sector - bit % kSectorsPerPage + kSectorsPerPage);
    for (; sector < page_end; ++sector) {
      const uint64_t in_page = sector % kSectorsPerPage;
      const uint8_t mask = static_cast<uint8_t>(1u << (in_page % 8));
      bytes[in_page / 8] = value ? (bytes[in_page / 8] | mask) : (bytes[in_page / 8] & ~mask);
    }
    // Bits are independent, each old or new after a torn write: the page is written in place.
    CELLA_TRY(file_.write(entry_offset(bitmap_entry(chunk)) + page * kBitmapPageSize, bytes));
  }
  return ok();
}

Result<void> VhdxImage::write(uint64_t offset, std::span<const uint8_t> data) {
  if (read_only()) return make_error("{}: the image is open read-only", path());
  CELLA_TRY(check_range("write", offset, data.size()));
  if (data.empty()) return ok();
  CELLA_TRY(begin_modification());
  const uint64_t block_size = metadata_.block_size;
  std::vector<uint64_t> changed;
  const std::vector<uint64_t> before = bat_;
  Result<void> result =
      for_each_block_piece(offset, data.size(), block_size,
                           [&](uint64_t block, uint64_t in_block, size_t done, size_t n) {
                             return write_block(block, in_block, data.subspan(done, n), changed);
                           });
  if (result) result = commit_entries(changed);
  if (!result) {
    bat_ = before;  // the BAT on disk did not change (or the log will replay it whole)
    bitmap_pages_.clear();
  }
  return result;
}

Result<void> VhdxImage::write_block(uint64_t block, uint64_t offset_in_block,
                                    std::span<const uint8_t> data, std::vector<uint64_t>& changed) {
  CELLA_TRY(check_block_usable(block));
  const uint64_t index = layout_.payload_index(block);
  const uint64_t block_size = metadata_.block_size;
  const uint8_t state = entry_state(bat_[index]);
  if (state == static_cast<uint8_t>(PayloadState::kFullyPresent)) {
    return file_.write(entry_offset(bat_[index]) + offset_in_block, data);
  }
  const bool whole = offset_in_block == 0 &&
                     (data.size() == block_size || block * block_size + data.size() == size());
  const bool keeps_parent =
      differencing() && state == static_cast<uint8_t>(PayloadState::kNotPresent) && !whole;
  if (state != static_cast<uint8_t>(PayloadState::kPartiallyPresent) && !keeps_parent) {
    // A new, fully present block: what the write does not cover reads as zeros, as the block did
    // (not present in a non-differencing image, zero, unmapped or undefined).
    CELLA_TRY_ASSIGN(offset, allocate(block_size));
    CELLA_TRY(file_.write(offset + offset_in_block, data));
    set_entry(index, make_entry(PayloadState::kFullyPresent, offset), changed);
    return ok();
  }
  if (keeps_parent) {
    // A partially present block ([MS-VHDX] 2.5.1.1): the chunk needs its sector bitmap.
    const uint64_t chunk = block / layout_.chunk_ratio;
    if (entry_state(bitmap_entry(chunk)) != static_cast<uint8_t>(BitmapState::kPresent)) {
      CELLA_TRY_ASSIGN(bitmap_offset, allocate(kSectorBitmapBlockSize));
      set_entry(layout_.bitmap_index(chunk),
                make_entry(static_cast<uint8_t>(BitmapState::kPresent), bitmap_offset), changed);
      for (uint64_t page = 0; page < kPagesPerBitmapBlock; ++page) {
        bitmap_pages_.erase(chunk * kPagesPerBitmapBlock + page);
      }
    }
    CELLA_TRY_ASSIGN(offset, allocate(block_size));
    set_entry(index, make_entry(PayloadState::kPartiallyPresent, offset), changed);
  }
  // Whole logical sectors are written; a partly covered first or last sector that is not yet in
  // this file is completed with what it reads as now (from the parent).
  const uint64_t sector_size = metadata_.logical_sector_size;
  const uint64_t block_start = block * block_size;
  const uint64_t first = (block_start + offset_in_block) / sector_size;
  const uint64_t last = (block_start + offset_in_block + data.size() - 1) / sector_size;
  const uint64_t head = first * sector_size - block_start;
  std::vector<uint8_t> buffer((last - first + 1) * sector_size);
  for (const uint64_t sector : {first, last}) {
    const uint64_t at = sector * sector_size - block_start;
    if (offset_in_block <= at && offset_in_block + data.size() >= at + sector_size) continue;
    CELLA_TRY(read_block(block, at, std::span(buffer).subspan(at - head, sector_size)));
  }
  std::memcpy(buffer.data() + (offset_in_block - head), data.data(), data.size());
  CELLA_TRY(file_.write(entry_offset(bat_[index]) + head, buffer));
  return set_sector_bits(first, last - first + 1, true);
}

Result<void> VhdxImage::discard(uint64_t offset, uint64_t length) {
  if (read_only()) return make_error("{}: the image is open read-only", path());
  CELLA_TRY(check_range("discard", offset, length));
  return unmap(offset, length, PayloadState::kUnmapped);
}

Result<void> VhdxImage::write_zeroes(uint64_t offset, uint64_t length, bool may_unmap) {
  if (read_only()) return make_error("{}: the image is open read-only", path());
  CELLA_TRY(check_range("write-zeroes", offset, length));
  if (!may_unmap) return BlockImage::write_zeroes(offset, length, false);
  return unmap(offset, length, PayloadState::kZero);
}

Result<void> VhdxImage::unmap(uint64_t offset, uint64_t length, PayloadState whole_state) {
  // Discard (whole_state kUnmapped) may leave partial sectors and unallocated blocks as they
  // are; write-zeroes (kZero) must make every byte read as zero.
  const bool exact = whole_state == PayloadState::kZero;
  if (length == 0) return ok();
  CELLA_TRY(begin_modification());
  const uint64_t block_size = metadata_.block_size;
  const uint64_t sector_size = metadata_.logical_sector_size;
  std::vector<uint64_t> changed;
  std::vector<uint64_t> released;  // file offsets of blocks leaving the BAT
  const uint64_t end = offset + length;
  uint64_t at = offset;
  while (at < end) {
    const uint64_t block = at / block_size;
    const uint64_t block_start = block * block_size;
    const uint64_t block_end = std::min(end, block_start + block_size);
    CELLA_TRY(check_block_usable(block));
    const uint64_t index = layout_.payload_index(block);
    const uint8_t state = entry_state(bat_[index]);
    const bool whole =
        at == block_start && (block_end == block_start + block_size || block_end == size());
    if (whole && !metadata_.leave_blocks_allocated) {
      // [MS-VHDX] 2.5.1.1 PAYLOAD_BLOCK_ZERO / _UNMAPPED: the block reads as zeros (Cella's
      // reading of unmapped), in a differencing image too: its parent's data stays hidden.
      if (allocated(state)) released.push_back(entry_offset(bat_[index]));
      if (state != static_cast<uint8_t>(whole_state)) {
        set_entry(index, make_entry(whole_state, 0), changed);
      }
    } else if (state == static_cast<uint8_t>(PayloadState::kFullyPresent) ||
               state == static_cast<uint8_t>(PayloadState::kPartiallyPresent)) {
      // Inside an allocated block: whole sectors get a hole in the host file (and become present
      // in this file, so that they read as those zeros), the edges are written.
      const uint64_t inner_begin = std::min(block_end, align_up(at, sector_size));
      const uint64_t inner_end = std::max(inner_begin, align_down(block_end, sector_size));
      if (inner_end > inner_begin) {
        CELLA_TRY(file_.punch_hole(entry_offset(bat_[index]) + (inner_begin - block_start),
                                   inner_end - inner_begin));
        if (state == static_cast<uint8_t>(PayloadState::kPartiallyPresent)) {
          CELLA_TRY(set_sector_bits(inner_begin / sector_size,
                                    (inner_end - inner_begin) / sector_size, true));
        }
      }
      if (exact) {
        CELLA_TRY(BlockImage::write_zeroes(at, inner_begin - at, false));
        CELLA_TRY(BlockImage::write_zeroes(inner_end, block_end - inner_end, false));
      }
    } else if (exact && differencing() &&
               state == static_cast<uint8_t>(PayloadState::kNotPresent)) {
      CELLA_TRY(BlockImage::write_zeroes(at, block_end - at, false));  // hides the parent
    }
    // Otherwise the range already reads as zeros.
    at = block_end;
  }
  CELLA_TRY(commit_entries(changed));
  // The log entry is durable: the released space may be reused.
  for (uint64_t freed : released) {
    CELLA_TRY(file_.punch_hole(freed, block_size));
    free_.add(freed, block_size);
  }
  return ok();
}

}  // namespace cella::block::vhdx
