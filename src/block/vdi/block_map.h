// The block map of a VDI image: one little-endian 32-bit entry per block of the disk, giving
// the index of the data slot that holds it, kBlockFree or kBlockZero. The whole map is kept in
// memory (4 bytes per block); changed entries are written back by 512-byte sector at flush,
// after the data they point to is durable.
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "block/host_file.h"
#include "block/vdi/vdi_header.h"

namespace cella::block::vdi {

class BlockMap {
 public:
  static Result<BlockMap> load(const HostFile& file, const Header& header);

  uint32_t size() const { return static_cast<uint32_t>(entries_.size()); }
  uint32_t get(uint32_t block) const { return entries_[block]; }
  void set(uint32_t block, uint32_t entry);
  // Grows (or shrinks) the map; new entries are `fill` and dirty.
  void resize(uint32_t blocks, uint32_t fill);
  const std::vector<uint32_t>& entries() const { return entries_; }
  bool dirty() const { return dirty_count_ != 0; }
  // Writes the changed sectors of the map at `offset` (no fdatasync).
  Result<void> write_dirty(HostFile& file, uint64_t offset);
  // Writes the whole map at `offset` (no fdatasync).
  Result<void> write_all(HostFile& file, uint64_t offset) const;

 private:
  static constexpr uint32_t kEntriesPerSector = 512 / 4;
  std::vector<uint32_t> entries_;
  std::vector<bool> dirty_sectors_;
  size_t dirty_count_ = 0;
};

}  // namespace cella::block::vdi
