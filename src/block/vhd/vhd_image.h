// A VHD image: fixed, dynamic or differencing ([VHD] "Overview"). Fixed disks are the data
// followed by a footer; dynamic and differencing disks keep a copy of the footer at offset 0, a
// dynamic disk header, a Block Allocation Table, and blocks made of a sector bitmap and data.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "block/block_image.h"
#include "block/file_space.h"
#include "block/format_registry.h"
#include "block/host_file.h"
#include "block/problem_list.h"
#include "block/vhd/vhd_format.h"

namespace cella::block::vhd {

class VhdImage final : public BlockImage {
 public:
  static Result<std::unique_ptr<BlockImage>> open(HostFile file, const OpenOptions& options);

  std::string format_name() const override { return "vhd"; }
  uint64_t size() const override { return size_; }
  bool read_only() const override { return !file_.writable(); }
  Result<void> read(uint64_t offset, std::span<uint8_t> out) override;
  Result<void> write(uint64_t offset, std::span<const uint8_t> data) override;
  Result<void> flush() override;
  Result<void> discard(uint64_t offset, uint64_t length) override;
  Result<void> write_zeroes(uint64_t offset, uint64_t length, bool may_unmap) override;
  Result<void> resize(uint64_t new_size) override;
  uint64_t cluster_size() const override { return sparse() ? block_size_ : 0; }
  Result<std::vector<Extent>> map(uint64_t offset, uint64_t length) override;
  Result<CheckReport> check(bool repair) override;
  std::vector<InfoField> info() const override;
  BlockImage* backing() const override { return parent_.get(); }
  std::string backing_file() const override;
  std::string backing_format() const override { return differencing() ? "vhd" : ""; }
  Result<void> make_empty() override;
  Result<void> set_backing(const std::string& path, const std::string& format) override;
  const std::string& path() const override { return file_.path(); }

  const Footer& footer() const { return footer_; }

 private:
  explicit VhdImage(HostFile file) : file_(std::move(file)) {}

  // vhd_open.cc
  Result<void> load_footer();
  Result<void> load_sparse(const OpenOptions& options);
  Result<void> load_bat();
  Result<void> open_parent(const OpenOptions& options);
  std::vector<FileRange> metadata_ranges() const;  // footer copy, header, BAT, locators

  bool sparse() const { return footer_.type() != DiskType::kFixed; }
  bool differencing() const { return footer_.type() == DiskType::kDifferencing; }
  uint64_t block_count() const { return (size_ + block_size_ - 1) / block_size_; }
  uint64_t block_footprint() const { return bitmap_bytes_ + block_size_; }
  // Host offset of a block's sector bitmap, or -1 when the block is not allocated.
  int64_t block_offset(uint64_t block) const;
  Result<void> check_block_usable(uint64_t block) const;

  // vhd_io.cc
  Result<void> read_block(uint64_t block, uint64_t offset_in_block, std::span<uint8_t> out);
  // What lies under this image: the parent's data (zero past its end), or zeros.
  Result<void> read_below(uint64_t offset, std::span<uint8_t> out);
  Result<void> map_below(std::vector<Extent>& extents, uint64_t offset, uint64_t length);
  Result<void> write_block(uint64_t block, uint64_t offset_in_block, std::span<const uint8_t> data,
                           std::vector<uint64_t>& allocated);

  // vhd_bitmap.cc: sector bitmaps ([VHD] "Block Allocation Table and Data Blocks": bit set =
  // sector holds data; the most significant bit of byte 0 is the block's first sector).
  Result<std::vector<uint8_t>*> bitmap(uint64_t block);
  Result<void> set_bitmap_bits(uint64_t block, uint64_t first_sector, uint64_t count, bool value);
  static bool bitmap_bit(const std::vector<uint8_t>& bits, uint64_t sector) {
    return (bits[sector / 8] >> (7 - sector % 8)) & 1;
  }

  // vhd_allocate.cc
  Result<uint64_t> allocate_block(uint64_t block, bool data_present);
  Result<void> commit_blocks(const std::vector<uint64_t>& blocks);
  Result<void> write_bat_entries(uint64_t first, uint64_t count);
  Result<bool> gap_holds_data(uint64_t begin, uint64_t end) const;  // vhd_check.cc
  Result<void> write_footer_at(uint64_t offset);
  Result<void> write_footers();  // the end footer and, for sparse disks, the copy at 0
  Result<void> release_blocks(const std::vector<uint64_t>& blocks);

  // vhd_resize.cc
  Result<void> grow_bat(uint32_t entries);

  HostFile file_;
  Footer footer_;
  uint64_t footer_offset_ = 0;         // where the (end) footer lives
  uint64_t size_ = 0;                  // virtual size
  std::vector<std::string> warnings_;  // problems met while opening, for check and info

  // Dynamic and differencing disks.
  DynamicHeader header_;
  std::vector<uint32_t> bat_;
  uint32_t block_size_ = 0;
  uint32_t bitmap_bytes_ = 0;     // sector bitmap, padded to whole sectors
  ProblemList bat_problems_;      // out-of-range or overlapping entries
  std::vector<bool> bad_blocks_;  // blocks named by bat_problems_
  FreeSpace free_;                // gaps between structures that new blocks can reuse
  std::unordered_map<uint64_t, std::vector<uint8_t>> bitmaps_;  // cache, by block
  std::unordered_map<uint64_t, uint64_t> pending_;              // allocated, not yet in the BAT
  std::unique_ptr<BlockImage> parent_;
  std::string parent_path_;
};

}  // namespace cella::block::vhd
