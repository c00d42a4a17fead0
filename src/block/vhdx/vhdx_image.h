// A VHDX image ([MS-VHDX]): fixed, dynamic or differencing. Opening replays the metadata log;
// every metadata change afterwards goes through the log; payload and sector bitmap blocks are
// allocated in 1 MiB units.
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
#include "block/vhdx/vhdx_bat.h"
#include "block/vhdx/vhdx_format.h"
#include "block/vhdx/vhdx_log.h"
#include "block/vhdx/vhdx_metadata.h"

namespace cella::block::vhdx {

class VhdxImage final : public BlockImage {
 public:
  static Result<std::unique_ptr<BlockImage>> open(HostFile file, const OpenOptions& options);
  ~VhdxImage() override;

  std::string format_name() const override { return "vhdx"; }
  uint64_t size() const override { return metadata_.virtual_disk_size; }
  bool read_only() const override { return !file_.writable(); }
  Result<void> read(uint64_t offset, std::span<uint8_t> out) override;
  Result<void> write(uint64_t offset, std::span<const uint8_t> data) override;
  Result<void> flush() override;
  Result<void> discard(uint64_t offset, uint64_t length) override;
  Result<void> write_zeroes(uint64_t offset, uint64_t length, bool may_unmap) override;
  Result<void> resize(uint64_t new_size) override;
  uint64_t cluster_size() const override { return metadata_.block_size; }
  Result<std::vector<Extent>> map(uint64_t offset, uint64_t length) override;
  Result<CheckReport> check(bool repair) override;
  std::vector<InfoField> info() const override;
  BlockImage* backing() const override { return parent_.get(); }
  std::string backing_file() const override;
  std::string backing_format() const override { return differencing() ? "vhdx" : ""; }
  Result<void> make_empty() override;
  Result<void> set_backing(const std::string& path, const std::string& format) override;
  // A read-only open of an image whose log was not replayed ([MS-VHDX] 2.3.3).
  bool dirty() const override { return !overlay_.empty(); }
  const std::string& path() const override { return file_.path(); }

  const Header& header() const { return header_; }
  const Metadata& metadata() const { return metadata_; }

 private:
  explicit VhdxImage(HostFile file) : file_(std::move(file)) {}

  // vhdx_open.cc
  Result<void> load_headers();
  Result<void> replay_if_needed();
  Result<void> load_regions();
  Result<void> load_metadata();
  Result<void> load_bat();
  Result<void> open_parent(const OpenOptions& options);
  // vhdx_session.cc: header updates, [MS-VHDX] 2.2.2.1.
  Result<void> update_headers(const Header& updated);
  Result<void> begin_modification();

  // Reads of the file: through the log overlay of a read-only image with a dirty log.
  Result<void> read_file(uint64_t offset, std::span<uint8_t> out) const;
  Result<uint64_t> replayed_file_size() const;

  bool differencing() const { return metadata_.has_parent; }
  uint64_t payload_entry(uint64_t block) const { return bat_[layout_.payload_index(block)]; }
  uint64_t bitmap_entry(uint64_t chunk) const;
  Result<void> check_block_usable(uint64_t block) const;

  // vhdx_io.cc
  Result<void> read_block(uint64_t block, uint64_t offset_in_block, std::span<uint8_t> out);
  Result<void> read_below(uint64_t offset, std::span<uint8_t> out);
  Result<void> map_below(std::vector<Extent>& extents, uint64_t offset, uint64_t length);
  // Sector bitmap pages ([MS-VHDX] 2.4.2: bit n of the chunk's bitmap, least significant bit
  // first, is the chunk's n-th logical sector), cached by (chunk, page).
  Result<const std::vector<uint8_t>*> bitmap_page(uint64_t chunk, uint64_t page);
  struct SectorRun {
    bool present = false;  // in this file (bit set) or below
    uint64_t count = 0;    // sectors from the first with the same bit
  };
  Result<SectorRun> sector_run(uint64_t first, uint64_t limit);  // limit > first

  // vhdx_write.cc
  Result<void> write_block(uint64_t block, uint64_t offset_in_block, std::span<const uint8_t> data,
                           std::vector<uint64_t>& changed_entries);
  Result<void> unmap(uint64_t offset, uint64_t length, PayloadState whole_state);
  Result<void> set_sector_bits(uint64_t first_sector, uint64_t count, bool value);
  Result<uint64_t> allocate(uint64_t length);  // 1 MiB aligned, in a free gap or at the end
  Result<void> commit_entries(const std::vector<uint64_t>& entries);  // through the log
  void set_entry(uint64_t index, uint64_t value, std::vector<uint64_t>& changed);

  // vhdx_resize.cc
  Result<void> move_bat(uint64_t entries, std::vector<PageUpdate>& pages);
  // vhdx_backing.cc
  // Adds `bytes` at `file_offset` to `updates`, whole pages read first where needed.
  Result<void> patch_pages(uint64_t file_offset, std::span<const uint8_t> bytes,
                           std::vector<PageUpdate>& updates) const;
  Result<void> relink_parent();  // parent_linkage := the open parent's DataWriteGuid

  HostFile file_;
  std::string creator_;
  Header header_;
  int current_header_ = 0;          // which of the two header slots holds header_
  std::vector<std::string> notes_;  // found while opening, for check and info
  bool log_replayed_ = false;
  LogOverlay overlay_;  // a dirty log of a read-only open, replayed in memory only
  bool session_started_ = false;
  std::vector<RegionEntry> regions_;
  RegionEntry bat_region_, metadata_region_;
  std::vector<MetadataEntry> metadata_entries_;
  Metadata metadata_;
  BatLayout layout_;
  std::vector<uint64_t> bat_;
  ProblemList bat_problems_;
  std::vector<bool> bad_entries_;  // by BAT index
  FreeSpace free_;
  uint64_t file_end_ = 0;  // the file's length: a multiple of 1 MiB once written
  LogWriter log_;
  std::unordered_map<uint64_t, std::vector<uint8_t>> bitmap_pages_;
  std::unique_ptr<BlockImage> parent_;
  std::string parent_path_;
};

}  // namespace cella::block::vhdx
