// A VirtualBox disk image (VDI): dynamic (blocks allocated on first write), static (every block
// allocated at creation) or differencing (unallocated blocks read the parent's data).
//
// Crash safety: a new block's data and the header's allocated-block count are written first;
// the block map entries that point to new blocks are written only at flush, after an fdatasync,
// and made durable by another. A crash therefore leaves every map entry pointing at data that
// was written, and at worst blocks counted in the header but referenced by no entry (leaks).
// Freeing blocks (discard, zeroing, repair) moves the last blocks into the holes in the same
// careful order: copy, sync, repoint, sync, shrink the count, sync, truncate.
#pragma once

#include <memory>
#include <string>

#include "block/block_image.h"
#include "block/format_registry.h"
#include "block/host_file.h"
#include "block/vdi/block_map.h"
#include "block/vdi/vdi_header.h"

namespace cella::block::vdi {

class VdiImage final : public BlockImage {
 public:
  static Result<std::unique_ptr<VdiImage>> open(HostFile file, const OpenOptions& options);
  ~VdiImage() override;  // writes back the changed header and block map

  std::string format_name() const override { return "vdi"; }
  uint64_t size() const override { return header_.disk_size; }
  bool read_only() const override { return read_only_; }
  Result<void> read(uint64_t offset, std::span<uint8_t> out) override;
  Result<void> write(uint64_t offset, std::span<const uint8_t> data) override;
  Result<void> flush() override;
  Result<void> discard(uint64_t offset, uint64_t length) override;
  Result<void> write_zeroes(uint64_t offset, uint64_t length, bool may_unmap) override;
  // A differencing image: every block freed, so that all of it reads the parent (`commit`).
  Result<void> make_empty() override;
  Result<void> resize(uint64_t new_size) override;
  uint64_t cluster_size() const override { return header_.block_size; }
  Result<std::vector<Extent>> map(uint64_t offset, uint64_t length) override;
  Result<CheckReport> check(bool repair) override;
  std::vector<InfoField> info() const override;
  BlockImage* backing() const override { return backing_.get(); }
  const std::string& path() const override { return file_.path(); }

  const Header& header() const { return header_; }

 private:
  // A run of blocks of one kind from a disk offset (data runs are contiguous in the file).
  struct Run {
    ExtentKind kind;
    uint64_t length;
    uint64_t host_offset;  // kData
  };

  VdiImage(HostFile file, Header header, BlockMap map, bool read_only)
      : file_(std::move(file)),
        header_(std::move(header)),
        map_(std::move(map)),
        read_only_(read_only) {}

  // Who uses each counted data slot, and what is wrong with the map.
  struct MapScan {
    std::vector<uint32_t> owner;  // per slot below the allocated count: its block or kBlockFree
    uint32_t used = 0;            // slots with an owner
    std::vector<std::string> problems;
  };
  Result<MapScan> scan_map() const;
  Result<void> validate_map();
  Result<Run> lookup(uint64_t offset, uint64_t max_length) const;
  Result<void> check_range(uint64_t offset, uint64_t length, std::string_view what) const;
  Result<void> read_background(uint64_t offset, std::span<uint8_t> out);
  Result<void> begin_change();
  Result<void> write_header();
  Result<uint32_t> allocate(uint32_t count);
  Result<uint64_t> write_new_blocks(uint64_t offset, std::span<const uint8_t> data);
  // The whole blocks inside a range (the last block counting as whole at the disk's end).
  std::pair<uint32_t, uint32_t> whole_blocks(uint64_t offset, uint64_t length) const;
  // Sets the entries of blocks [first, last) to `entry` (kBlockFree or kBlockZero), returning
  // their data slots to the image by compaction.
  Result<void> release_blocks(uint32_t first, uint32_t last, uint32_t entry);
  // Moves the data of the highest slots into unused lower slots, then lowers the allocated
  // count and truncates the file. Everything must be flushed before.
  Result<void> compact();
  // Grows the block map to `blocks` entries and the disk to new_size, moving the map when it
  // does not fit before the data.
  Result<void> grow_map(uint32_t blocks, uint64_t new_size);

  HostFile file_;
  Header header_;
  BlockMap map_;
  std::unique_ptr<BlockImage> backing_;
  bool read_only_;
  bool header_dirty_ = false;
  bool changed_ = false;  // the modification UUID was renewed for this session
  std::string damage_;    // why the block map cannot be trusted for writing, if it cannot
};

}  // namespace cella::block::vdi
