// Freeing VDI blocks: discard and write-zeroes mark whole blocks free or zero and give their
// data slots back by compaction, moving the last blocks of the file into the holes.
#include <algorithm>
#include <cstring>

#include "base/bits.h"
#include "block/vdi/vdi_image.h"

namespace cella::block::vdi {

std::pair<uint32_t, uint32_t> VdiImage::whole_blocks(uint64_t offset, uint64_t length) const {
  const uint64_t block_size = header_.block_size;
  const uint64_t end = offset + length;
  const uint64_t first = (offset + block_size - 1) / block_size;
  const uint64_t last = end == size() ? (end + block_size - 1) / block_size : end / block_size;
  return {static_cast<uint32_t>(first), static_cast<uint32_t>(std::max(first, last))};
}

Result<void> VdiImage::release_blocks(uint32_t first, uint32_t last, uint32_t entry) {
  bool any_allocated = false;
  for (uint32_t block = first; block < last; ++block) {
    any_allocated |= is_allocated(map_.get(block));
  }
  if (!any_allocated) {
    for (uint32_t block = first; block < last; ++block) map_.set(block, entry);
    return ok();
  }
  // 1. Everything durable, so that the slots to free are referenced only by these entries.
  CELLA_TRY(flush());
  // 2. The entries no longer point at their slots (which become unreferenced: leaks).
  for (uint32_t block = first; block < last; ++block) map_.set(block, entry);
  CELLA_TRY(map_.write_dirty(file_, header_.blocks_offset));
  CELLA_TRY(file_.flush());
  // 3. The slots go back to the file.
  return compact();
}

Result<void> VdiImage::compact() {
  const uint32_t count = header_.blocks_allocated;
  CELLA_TRY_ASSIGN(scan, scan_map());
  if (!scan.problems.empty()) {
    return make_error("{}: cannot compact a damaged block map ({})", path(), scan.problems[0]);
  }
  const std::vector<uint32_t>& owner = scan.owner;
  const uint32_t used = scan.used;
  // Slots below `used` that are free receive the used slots at or above `used`.
  std::vector<std::pair<uint32_t, uint32_t>> moves;  // (from, to)
  uint32_t hole = 0;
  for (uint32_t from = used; from < count; ++from) {
    if (owner[from] == kBlockFree) continue;
    while (owner[hole] != kBlockFree) ++hole;
    moves.emplace_back(from, hole++);
  }
  const uint64_t slot = header_.slot_size();
  if (!moves.empty()) {
    // 1. Copy (the extra data with the block): the copies are unreferenced until step 2.
    std::vector<uint8_t> buffer(std::min<uint64_t>(slot, 4 << 20));
    for (const auto& [from, to] : moves) {
      const uint64_t source = header_.data_offset + from * slot;
      const uint64_t target = header_.data_offset + to * slot;
      for (uint64_t done = 0; done < slot; done += buffer.size()) {
        std::span<uint8_t> chunk(buffer.data(), std::min<uint64_t>(buffer.size(), slot - done));
        CELLA_TRY(file_.read_zero_filled(source + done, chunk));
        CELLA_TRY(file_.write(target + done, chunk));
      }
    }
    CELLA_TRY(file_.flush());
    // 2. Repoint the moved blocks.
    for (const auto& [from, to] : moves) map_.set(owner[from], to);
    CELLA_TRY(map_.write_dirty(file_, header_.blocks_offset));
    CELLA_TRY(file_.flush());
  }
  // 3. The count shrinks to what is used, then the file.
  if (used != count) {
    header_.blocks_allocated = used;
    CELLA_TRY(write_header());
    CELLA_TRY(file_.flush());
  }
  CELLA_TRY_ASSIGN(file_size, file_.size());
  const uint64_t end = header_.data_offset + used * slot;
  if (file_size > end) {
    CELLA_TRY(file_.truncate(end));
    CELLA_TRY(file_.flush());
  }
  return ok();
}

Result<void> VdiImage::discard(uint64_t offset, uint64_t length) {
  CELLA_TRY(check_range(offset, length, "discard"));
  // A static image keeps every block allocated.
  if (header_.type == ImageType::kStatic) return ok();
  const auto [first, last] = whole_blocks(offset, length);
  if (first >= last) return ok();
  CELLA_TRY(begin_change());
  return release_blocks(first, last, kBlockFree);
}

Result<void> VdiImage::make_empty() {
  if (header_.type != ImageType::kDiff) {
    return make_error("{}: not a differencing image: there is no parent to empty into", path());
  }
  CELLA_TRY(discard(0, size()));
  // `commit` changed the parent (and so its modification UUID): record the one it has now.
  if (const auto* parent = dynamic_cast<const VdiImage*>(backing_.get()); parent != nullptr) {
    header_.parent_modify_uuid = parent->header().modify_uuid;
    header_dirty_ = true;
  }
  return flush();
}

Result<void> VdiImage::write_zeroes(uint64_t offset, uint64_t length, bool may_unmap) {
  CELLA_TRY(check_range(offset, length, "write-zeroes"));
  if (header_.type == ImageType::kStatic || !may_unmap) {
    return BlockImage::write_zeroes(offset, length, may_unmap);
  }
  CELLA_TRY(begin_change());
  const auto [first, last] = whole_blocks(offset, length);
  const uint64_t block_size = header_.block_size;
  // Partial blocks at either end: zeros written only where the disk does not read zeros.
  const auto zero_partial = [&](uint64_t from, uint64_t to) -> Result<void> {
    while (from < to) {
      CELLA_TRY_ASSIGN(run, lookup(from, to - from));
      const bool reads_zeros = run.kind == ExtentKind::kZero ||
                               (run.kind == ExtentKind::kUnallocated && backing() == nullptr);
      if (!reads_zeros) {
        CELLA_TRY(BlockImage::write_zeroes(from, run.length, may_unmap));
      }
      from += run.length;
    }
    return ok();
  };
  const uint64_t end = offset + length;
  if (first >= last) return zero_partial(offset, end);
  CELLA_TRY(zero_partial(offset, uint64_t{first} * block_size));
  // A free block of an image without a parent already reads as zeros.
  const uint32_t entry = header_.type == ImageType::kDiff ? kBlockZero : kBlockFree;
  CELLA_TRY(release_blocks(first, last, entry));
  return zero_partial(std::min(end, uint64_t{last} * block_size), end);
}

}  // namespace cella::block::vdi
