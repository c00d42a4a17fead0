// Reads, writes and maps of VHD images. Dynamic and differencing disks are addressed block by
// block; inside an allocated block, the sector bitmap decides sector by sector whether the
// data is in this file or below it ([VHD] "Mapping a Disk Sector to a Sector in the Block",
// "Implementing a Differencing Hard Disk").
#include <algorithm>
#include <cstring>

#include "base/bits.h"
#include "block/block_pieces.h"
#include "block/extents.h"
#include "block/vhd/vhd_image.h"

namespace cella::block::vhd {

namespace {

// The number of sectors from `first` (inclusive) to `limit` (exclusive) whose bit equals
// first's; `bit` receives that value.
uint64_t bitmap_run(const std::vector<uint8_t>& bits, uint64_t first, uint64_t limit, bool* bit) {
  auto get = [&](uint64_t sector) { return ((bits[sector / 8] >> (7 - sector % 8)) & 1) != 0; };
  *bit = get(first);
  const uint8_t whole = *bit ? 0xFF : 0x00;
  uint64_t sector = first + 1;
  while (sector < limit) {
    if (sector % 8 == 0 && sector + 8 <= limit && bits[sector / 8] == whole) {
      sector += 8;
    } else if (get(sector) == *bit) {
      ++sector;
    } else {
      break;
    }
  }
  return sector - first;
}

}  // namespace

Result<void> VhdImage::read(uint64_t offset, std::span<uint8_t> out) {
  CELLA_TRY(check_range("read", offset, out.size()));
  if (!sparse()) return file_.read(offset, out);
  return for_each_block_piece(offset, out.size(), block_size_,
                              [&](uint64_t block, uint64_t in_block, size_t done, size_t n) {
                                return read_block(block, in_block, out.subspan(done, n));
                              });
}

Result<void> VhdImage::read_block(uint64_t block, uint64_t offset_in_block,
                                  std::span<uint8_t> out) {
  CELLA_TRY(check_block_usable(block));
  const int64_t base = block_offset(block);
  const uint64_t disk_offset = block * block_size_;
  if (base < 0) return read_below(disk_offset + offset_in_block, out);
  CELLA_TRY_ASSIGN(cached, bitmap(block));
  const std::vector<uint8_t> bits = *cached;  // read_below may evict the cache entry
  const uint64_t data = static_cast<uint64_t>(base) + bitmap_bytes_;
  const uint64_t end = offset_in_block + out.size();
  uint64_t at = offset_in_block;
  while (at < end) {
    bool present;
    const uint64_t sectors =
        bitmap_run(bits, at / kSectorSize, (end + kSectorSize - 1) / kSectorSize, &present);
    const uint64_t run_end = std::min(end, (at / kSectorSize + sectors) * kSectorSize);
    std::span<uint8_t> piece = out.subspan(at - offset_in_block, run_end - at);
    if (present) {
      CELLA_TRY(file_.read(data + at, piece));
    } else {
      CELLA_TRY(read_below(disk_offset + at, piece));
    }
    at = run_end;
  }
  return ok();
}

Result<void> VhdImage::read_below(uint64_t offset, std::span<uint8_t> out) {
  size_t inside = 0;
  if (parent_ != nullptr && offset < parent_->size()) {
    inside = static_cast<size_t>(std::min<uint64_t>(out.size(), parent_->size() - offset));
    CELLA_TRY(parent_->read(offset, out.first(inside)));
  }
  std::memset(out.data() + inside, 0, out.size() - inside);
  return ok();
}

Result<void> VhdImage::write(uint64_t offset, std::span<const uint8_t> data) {
  if (read_only()) return make_error("{}: the image is open read-only", path());
  CELLA_TRY(check_range("write", offset, data.size()));
  if (!sparse()) return file_.write(offset, data);
  std::vector<uint64_t> allocated;
  size_t done = 0;
  while (done < data.size()) {
    const uint64_t at = offset + done;
    const uint64_t in_block = at % block_size_;
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(block_size_ - in_block, data.size() - done));
    auto written = write_block(at / block_size_, in_block, data.subspan(done, n), allocated);
    if (!written) {
      // Blocks allocated so far stay out of the BAT: their space is reused or reported as a
      // leak, never referenced half-written.
      for (uint64_t block : allocated) pending_.erase(block);
      return written.error();
    }
    done += n;
  }
  return commit_blocks(allocated);
}

Result<void> VhdImage::write_block(uint64_t block, uint64_t offset_in_block,
                                   std::span<const uint8_t> data,
                                   std::vector<uint64_t>& allocated) {
  CELLA_TRY(check_block_usable(block));
  int64_t base = block_offset(block);
  if (base < 0) {
    // A dynamic disk's new block reads as zeros everywhere, so every sector is marked present
    // (as Virtual PC and qemu do); a differencing disk's new block marks only what is written.
    CELLA_TRY_ASSIGN(offset, allocate_block(block, !differencing()));
    allocated.push_back(block);
    base = static_cast<int64_t>(offset);
  }
  const uint64_t data_offset = static_cast<uint64_t>(base) + bitmap_bytes_;
  const uint64_t first = offset_in_block / kSectorSize;
  const uint64_t last = (offset_in_block + data.size() - 1) / kSectorSize;
  CELLA_TRY_ASSIGN(cached, bitmap(block));
  bool all_present = true;
  for (uint64_t sector = first; sector <= last && all_present; ++sector) {
    all_present = bitmap_bit(*cached, sector);
  }
  if (all_present) return file_.write(data_offset + offset_in_block, data);

  // Some sectors are not in this file yet: write whole sectors, completing the partly written
  // first and last ones with what they read as now (from below, or from this file).
  const std::vector<uint8_t> bits = *cached;
  const uint64_t head = first * kSectorSize;
  std::vector<uint8_t> buffer((last - first + 1) * kSectorSize);
  for (const uint64_t sector : {first, last}) {
    const uint64_t at = sector * kSectorSize;
    const bool covered = offset_in_block <= at && offset_in_block + data.size() >= at + kSectorSize;
    if (covered) continue;
    std::span<uint8_t> piece(buffer.data() + (at - head), kSectorSize);
    if (bitmap_bit(bits, sector)) {
      CELLA_TRY(file_.read(data_offset + at, piece));
    } else {
      CELLA_TRY(read_below(block * block_size_ + at, piece));
    }
  }
  std::memcpy(buffer.data() + (offset_in_block - head), data.data(), data.size());
  CELLA_TRY(file_.write(data_offset + head, buffer));
  // The data is written before the bits that make it visible.
  return set_bitmap_bits(block, first, last - first + 1, true);
}

Result<void> VhdImage::flush() {
  return file_.flush();
}

Result<std::vector<Extent>> VhdImage::map(uint64_t offset, uint64_t length) {
  CELLA_TRY(check_range("map", offset, length));
  std::vector<Extent> extents;
  if (!sparse()) {
    CELLA_TRY(append_flat_extents(extents, file_, offset, length, offset));
    return extents;
  }
  const uint64_t end = offset + length;
  uint64_t at = offset;
  while (at < end) {
    const uint64_t block = at / block_size_;
    const uint64_t block_end = std::min(end, (block + 1) * block_size_);
    CELLA_TRY(check_block_usable(block));
    const int64_t base = block_offset(block);
    if (base < 0) {
      CELLA_TRY(map_below(extents, at, block_end - at));
      at = block_end;
      continue;
    }
    CELLA_TRY_ASSIGN(cached, bitmap(block));
    const std::vector<uint8_t> bits = *cached;
    const uint64_t data = static_cast<uint64_t>(base) + bitmap_bytes_;
    const uint64_t block_start = block * block_size_;
    while (at < block_end) {
      const uint64_t in_block = at - block_start;
      bool present;
      const uint64_t sectors =
          bitmap_run(bits, in_block / kSectorSize,
                     (block_end - block_start + kSectorSize - 1) / kSectorSize, &present);
      const uint64_t run_end =
          std::min(block_end, block_start + (in_block / kSectorSize + sectors) * kSectorSize);
      if (present) {
        append_extent(extents, make_extent(at, run_end - at, ExtentKind::kData, 0,
                                           static_cast<int64_t>(data + in_block), path()));
      } else {
        CELLA_TRY(map_below(extents, at, run_end - at));
      }
      at = run_end;
    }
  }
  return extents;
}

Result<void> VhdImage::map_below(std::vector<Extent>& extents, uint64_t offset, uint64_t length) {
  return append_backing_extents(extents, parent_.get(), offset, length);
}

}  // namespace cella::block::vhd
