#include "block/vdi/block_map.h"

#include <algorithm>

#include "base/bits.h"

namespace cella::block::vdi {

Result<BlockMap> BlockMap::load(const HostFile& file, const Header& header) {
  BlockMap map;
  std::vector<uint8_t> bytes(uint64_t{header.blocks} * 4);
  CELLA_TRY(file.read(header.blocks_offset, bytes));
  map.entries_.resize(header.blocks);
  for (uint32_t i = 0; i < header.blocks; ++i) map.entries_[i] = load_le<uint32_t>(&bytes[i * 4]);
  map.dirty_sectors_.assign((header.blocks + kEntriesPerSector - 1) / kEntriesPerSector, false);
  return map;
}

void BlockMap::set(uint32_t block, uint32_t entry) {
  entries_[block] = entry;
  const uint32_t sector = block / kEntriesPerSector;
  if (!dirty_sectors_[sector]) {
    dirty_sectors_[sector] = true;
    ++dirty_count_;
  }
}

void BlockMap::resize(uint32_t blocks, uint32_t fill) {
  const uint32_t old = size();
  entries_.resize(blocks, fill);
  dirty_sectors_.resize((blocks + kEntriesPerSector - 1) / kEntriesPerSector, false);
  dirty_count_ =
      static_cast<size_t>(std::count(dirty_sectors_.begin(), dirty_sectors_.end(), true));
  for (uint32_t block = old; block < blocks; ++block) set(block, fill);
}

Result<void> BlockMap::write_dirty(HostFile& file, uint64_t offset) {
  std::vector<uint8_t> sector(512);
  for (uint32_t s = 0; s < dirty_sectors_.size(); ++s) {
    if (!dirty_sectors_[s]) continue;
    const uint32_t first = s * kEntriesPerSector;
    const uint32_t count = std::min(kEntriesPerSector, size() - first);
    for (uint32_t i = 0; i < count; ++i) store_le<uint32_t>(&sector[i * 4], entries_[first + i]);
    CELLA_TRY(
        file.write(offset + uint64_t{s} * 512, std::span<const uint8_t>(sector.data(), count * 4)));
    dirty_sectors_[s] = false;
    --dirty_count_;
  }
  return ok();
}

Result<void> BlockMap::write_all(HostFile& file, uint64_t offset) const {
  std::vector<uint8_t> bytes(align_up(entries_.size() * 4, 512), 0);
  for (size_t i = 0; i < entries_.size(); ++i) store_le<uint32_t>(&bytes[i * 4], entries_[i]);
  return file.write(offset, bytes);
}

}  // namespace cella::block::vdi
