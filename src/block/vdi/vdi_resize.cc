// Growing a VDI image. The disk size, block count, allocated count and the block map's and
// data's offsets all live in the first sector of the header, so each growth step ends with one
// header write that switches from the old layout to the new one; everything the new layout
// needs is written (and made durable) before it, in space the old layout does not use.
#include <algorithm>

#include "base/bits.h"
#include "block/vdi/vdi_image.h"

namespace cella::block::vdi {

Result<void> VdiImage::resize(uint64_t new_size) {
  if (read_only_) return make_error("{}: the image is open read-only", path());
  if (new_size % 512 != 0) return make_error("the new size must be a multiple of 512 bytes");
  if (new_size < size()) return make_error("shrinking a VDI image is not supported");
  if (new_size == size()) return ok();
  const uint64_t blocks = (new_size + header_.block_size - 1) / header_.block_size;
  if (blocks > kMaxBlocks) {
    return make_error("{} bytes needs {} blocks, more than the {} supported", new_size, blocks,
                      kMaxBlocks);
  }
  CELLA_TRY(begin_change());
  CELLA_TRY(flush());
  if (blocks > header_.blocks) return grow_map(static_cast<uint32_t>(blocks), new_size);
  header_.disk_size = new_size;
  CELLA_TRY(write_header());
  return file_.flush();
}

Result<void> VdiImage::grow_map(uint32_t blocks, uint64_t new_size) {
  const uint32_t old_blocks = header_.blocks;
  const uint32_t added = blocks - old_blocks;
  const uint64_t slot = header_.slot_size();
  // A static image allocates (and zeroes) the new blocks at the end of its data.
  const auto allocate_static = [&](uint32_t first_slot) -> Result<void> {
    if (header_.type != ImageType::kStatic) return ok();
    CELLA_TRY(file_.allocate(header_.data_offset + first_slot * slot, uint64_t{added} * slot));
    for (uint32_t i = 0; i < added; ++i) map_.set(old_blocks + i, first_slot + i);
    return ok();
  };
  if (uint64_t{header_.blocks_offset} + uint64_t{blocks} * 4 <= header_.data_offset) {
    // The map grows into the space before the data: new entries, durable, then the header.
    map_.resize(blocks, kBlockFree);
    CELLA_TRY(allocate_static(header_.blocks_allocated));
    CELLA_TRY(map_.write_dirty(file_, header_.blocks_offset));
    CELLA_TRY(file_.flush());
    header_.blocks = blocks;
    header_.disk_size = new_size;
    if (header_.type == ImageType::kStatic) header_.blocks_allocated += added;
    CELLA_TRY(write_header());
    return file_.flush();
  }

  // The map moves to where the first data slots are; the blocks in those slots move to the end.
  const uint64_t map_bytes = align_up(uint64_t{blocks} * 4, 512);
  const uint32_t freed = static_cast<uint32_t>((map_bytes + slot - 1) / slot);
  const uint64_t new_data_offset = header_.data_offset + uint64_t{freed} * slot;
  if (new_data_offset > UINT32_MAX) {
    return make_error("the grown block map would push the data beyond VDI's 4 GiB offset limit");
  }
  CELLA_TRY_ASSIGN(scan, scan_map());
  const std::vector<uint32_t>& owner = scan.owner;
  std::vector<uint32_t> moving;
  for (uint32_t s = 0; s < std::min(freed, header_.blocks_allocated); ++s) {
    if (owner[s] != kBlockFree) moving.push_back(s);
  }
  // The copies go after both the allocated slots and the slots the map will take.
  const uint32_t first_copy = std::max(header_.blocks_allocated, freed);
  const uint64_t needed = uint64_t{first_copy} + moving.size();
  if (needed > header_.blocks) {
    // The old header must count the moved copies: borrow entries from the map's padding.
    const uint64_t room = (header_.data_offset - header_.blocks_offset) / 4;
    if (needed > room) {
      return make_error(
          "this image has no room to move its first blocks while keeping a "
          "consistent header; convert it to a new image of the larger size");
    }
    map_.resize(static_cast<uint32_t>(needed), kBlockFree);
    CELLA_TRY(map_.write_dirty(file_, header_.blocks_offset));
    CELLA_TRY(file_.flush());
    header_.blocks = static_cast<uint32_t>(needed);
    CELLA_TRY(write_header());
    CELLA_TRY(file_.flush());
  }
  // 1. Copy the blocks out of the way, count the copies, then repoint them (old layout).
  std::vector<uint8_t> buffer(std::min<uint64_t>(slot, 4 << 20));
  for (size_t k = 0; k < moving.size(); ++k) {
    const uint64_t source = header_.data_offset + moving[k] * slot;
    const uint64_t target = header_.data_offset + (first_copy + k) * slot;
    for (uint64_t done = 0; done < slot; done += buffer.size()) {
      std::span<uint8_t> chunk(buffer.data(), std::min<uint64_t>(buffer.size(), slot - done));
      CELLA_TRY(file_.read_zero_filled(source + done, chunk));
      CELLA_TRY(file_.write(target + done, chunk));
    }
  }
  header_.blocks_allocated = first_copy + static_cast<uint32_t>(moving.size());
  CELLA_TRY(write_header());
  CELLA_TRY(file_.flush());
  for (size_t k = 0; k < moving.size(); ++k) {
    map_.set(owner[moving[k]], first_copy + static_cast<uint32_t>(k));
  }
  CELLA_TRY(map_.write_dirty(file_, header_.blocks_offset));
  CELLA_TRY(file_.flush());

  // 2. The new map, numbered from the new data offset, written over the freed slots.
  Header next = header_;
  next.blocks_offset = header_.data_offset;
  next.data_offset = static_cast<uint32_t>(new_data_offset);
  next.blocks = blocks;
  next.disk_size = new_size;
  next.blocks_allocated = header_.blocks_allocated - freed;
  BlockMap relocated = map_;
  relocated.resize(blocks, kBlockFree);
  for (uint32_t block = 0; block < old_blocks; ++block) {
    const uint32_t entry = map_.get(block);
    if (is_allocated(entry)) relocated.set(block, entry - freed);
  }
  if (header_.type == ImageType::kStatic) {
    CELLA_TRY(file_.allocate(next.data_offset + uint64_t{next.blocks_allocated} * slot,
                             uint64_t{added} * slot));
    for (uint32_t i = 0; i < added; ++i) relocated.set(old_blocks + i, next.blocks_allocated + i);
    next.blocks_allocated += added;
  }
  CELLA_TRY(relocated.write_all(file_, next.blocks_offset));
  CELLA_TRY(file_.flush());
  // 3. One header write switches layouts.
  header_ = next;
  map_ = std::move(relocated);
  CELLA_TRY(write_header());
  CELLA_TRY(file_.flush());
  return ok();
}

}  // namespace cella::block::vdi
