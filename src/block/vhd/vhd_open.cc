// Opening a VHD: the footer (and its copy), the dynamic disk header, the BAT, and the parent of
// a differencing disk. Every field that sizes an allocation or points into the file is checked
// against the file before use.
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "base/bits.h"
#include "base/log.h"
#include "block/vhd/vhd_geometry.h"
#include "block/vhd/vhd_image.h"
#include "block/vhd/vhd_parent.h"

namespace cella::block::vhd {

namespace {

// Smallest and largest block sizes Cella accepts ([VHD] "Dynamic Disk Header Format", Block
// Size: a multiple of the sector size, 2 MiB by default). 256 MiB bounds a sector bitmap to
// 64 KiB.
constexpr uint32_t kMinBlockSize = 512;
constexpr uint32_t kMaxBlockSize = 256u << 20;

}  // namespace

Result<std::unique_ptr<BlockImage>> VhdImage::open(HostFile file, const OpenOptions& options) {
  std::unique_ptr<VhdImage> image(new VhdImage(std::move(file)));
  CELLA_TRY(image->load_footer());
  if (image->sparse()) CELLA_TRY(image->load_sparse(options));
  if (!image->read_only() && image->footer_.saved_state != 0) {
    // [VHD] "Hard Disk Footer Format", Saved State: a saved virtual machine owns the disk.
    return make_error(
        "the image is in a saved state (a suspended virtual machine owns it); "
        "open it read-only");
  }
  return std::unique_ptr<BlockImage>(std::move(image));
}

Result<void> VhdImage::load_footer() {
  CELLA_TRY_ASSIGN(file_size, file_.size());
  if (file_size < kFooterSize) {
    return make_error("file is too small to be a VHD image ({} bytes)", file_size);
  }
  std::array<uint8_t, kFooterSize> bytes{};
  CELLA_TRY(file_.read(file_size - kFooterSize, bytes));
  auto footer = parse_footer(bytes);
  if (footer) {
    footer_offset_ = file_size - kFooterSize;
  } else {
    // [VHD] "Hard Disk Footer Format": images older than Virtual PC 2004 have 511-byte footers.
    std::array<uint8_t, kFooterSize> old{};
    CELLA_TRY(file_.read(file_size - kOldFooterSize, std::span(old).first(kOldFooterSize)));
    if (auto old_footer = parse_footer(old)) {
      footer = std::move(old_footer);
      footer_offset_ = file_size - kOldFooterSize;
    } else {
      // Dynamic disks keep a copy at offset 0 ([VHD] "Dynamic Disk Header Format": "a copy of
      // the hard disk footer ... for redundancy"); a crash while a writer moved the footer can
      // leave only the copy.
      std::array<uint8_t, kFooterSize> copy{};
      CELLA_TRY(file_.read(0, copy));
      auto copied = parse_footer(copy);
      if (!copied || copied->type() == DiskType::kFixed) return footer.error();
      warnings_.push_back(fmt::format(
          "the footer at the end of the file is damaged ({}); using the copy at offset 0",
          footer.error().message()));
      footer = std::move(copied);
      footer_offset_ = 0;  // decided once the structures are known (load_sparse)
    }
  }
  footer_ = *footer;
  const DiskType type = footer_.type();
  if (type != DiskType::kFixed && type != DiskType::kDynamic && type != DiskType::kDifferencing) {
    return make_error("VHD disk type {} is not supported (fixed, dynamic and differencing are)",
                      disk_type_name(footer_.disk_type));
  }
  size_ = virtual_size(footer_);
  if (type == DiskType::kFixed && footer_.current_size > footer_offset_) {
    return make_error("fixed VHD claims {} bytes of data, but only {} precede its footer",
                      footer_.current_size, footer_offset_);
  }
  if (sparse() && footer_offset_ != 0) {
    std::array<uint8_t, kFooterSize> copy{};
    CELLA_TRY(file_.read(0, copy));
    if (footer_offset_ == file_size - kFooterSize && copy != bytes) {
      warnings_.push_back("the footer copy at offset 0 differs from the footer at the end");
    }
  }
  return ok();
}

Result<void> VhdImage::load_sparse(const OpenOptions& options) {
  CELLA_TRY_ASSIGN(file_size, file_.size());
  const uint64_t limit = footer_offset_ != 0 ? footer_offset_ : file_size;
  if (footer_.data_offset < kFooterSize || footer_.data_offset > limit ||
      limit - footer_.data_offset < kDynamicHeaderSize) {
    return make_error(
        "the footer's Data Offset {:#x} does not point at a dynamic disk header "
        "inside the file",
        footer_.data_offset);
  }
  std::array<uint8_t, kDynamicHeaderSize> bytes{};
  CELLA_TRY(file_.read(footer_.data_offset, bytes));
  CELLA_TRY_ASSIGN(header, parse_dynamic_header(bytes));
  header_ = header;
  if (header_.block_size < kMinBlockSize || header_.block_size > kMaxBlockSize ||
      header_.block_size % kSectorSize != 0) {
    return make_error("VHD block size {} is not a multiple of 512 between 512 bytes and 256 MiB",
                      header_.block_size);
  }
  block_size_ = header_.block_size;
  bitmap_bytes_ = static_cast<uint32_t>(align_up((block_size_ / kSectorSize + 7) / 8, kSectorSize));
  if (header_.max_table_entries < block_count()) {
    return make_error("the BAT has {} entries covering {} bytes, but the disk is {} bytes",
                      header_.max_table_entries, uint64_t{header_.max_table_entries} * block_size_,
                      size_);
  }
  const uint64_t bat_bytes = align_up(uint64_t{header_.max_table_entries} * 4, kSectorSize);
  if (header_.table_offset > limit || bat_bytes > limit - header_.table_offset) {
    return make_error("the BAT ({} entries at {:#x}) extends beyond the end of the file",
                      header_.max_table_entries, header_.table_offset);
  }
  CELLA_TRY(load_bat());
  if (differencing()) CELLA_TRY(open_parent(options));
  return ok();
}

std::vector<FileRange> VhdImage::metadata_ranges() const {
  std::vector<FileRange> ranges = {
      {0, kFooterSize, "footer copy"},
      {footer_.data_offset, kDynamicHeaderSize, "dynamic disk header"},
      {header_.table_offset, align_up(uint64_t{header_.max_table_entries} * 4, kSectorSize), "BAT"},
  };
  for (int i = 0; i < kParentLocatorCount; ++i) {
    const ParentLocator& locator = header_.locators[i];
    if (locator.platform_code == 0 || locator.data_length == 0) continue;
    ranges.push_back({locator.data_offset, align_up(locator.data_length, kSectorSize),
                      fmt::format("parent locator {}", i + 1)});
  }
  return ranges;
}

Result<void> VhdImage::load_bat() {
  const uint32_t entries = header_.max_table_entries;
  std::vector<uint8_t> raw(uint64_t{entries} * 4);
  CELLA_TRY(file_.read(header_.table_offset, raw));
  bat_.resize(entries);
  for (uint32_t i = 0; i < entries; ++i) bat_[i] = load_be<uint32_t>(&raw[uint64_t{i} * 4]);

  CELLA_TRY_ASSIGN(file_size, file_.size());
  // Blocks must end before the footer; with a recovered footer, before the end of the file.
  const uint64_t limit = footer_offset_ != 0 ? footer_offset_ : file_size;
  std::vector<FileRange> ranges = metadata_ranges();
  bad_blocks_.assign(entries, false);
  // [VHD] "Dynamic Disk Header Format", Max Table Entries "should be equal to the number of
  // blocks in the disk": entries past the disk's end are ignored (a hostile table has millions;
  // `resize` writes them as unused before the disk grows over them).
  std::fill(bat_.begin() + static_cast<std::ptrdiff_t>(block_count()), bat_.end(), kUnusedBatEntry);
  for (uint32_t i = 0; i < block_count(); ++i) {
    if (bat_[i] == kUnusedBatEntry) continue;
    const uint64_t offset = uint64_t{bat_[i]} * kSectorSize;
    if (offset > limit || block_footprint() > limit - offset) {
      bat_problems_.add("BAT entry {} points at sector {:#x}, beyond the end of the image data", i,
                        bat_[i]);
      bad_blocks_[i] = true;
      continue;
    }
    ranges.push_back({offset, block_footprint(), {}, i, "block", i});
  }
  for (const Overlap& overlap : find_overlaps(ranges)) {
    bat_problems_.add("{}", overlap);
    for (const FileRange* side : {overlap.earlier, overlap.later}) {
      if (side->tag >= 0) bad_blocks_[static_cast<size_t>(side->tag)] = true;
    }
  }
  uint64_t data_end = 0;
  for (const FileRange& range : ranges) data_end = std::max(data_end, range.end());
  if (footer_offset_ == 0) {  // recovered from the copy: the footer belongs after the last block
    footer_offset_ = align_up(data_end, kSectorSize);
    if (file_.writable()) {
      CELLA_TRY(write_footer_at(footer_offset_));
      CELLA_TRY(file_.truncate(footer_offset_ + kFooterSize));
      CELLA_TRY(file_.flush());
      warnings_.push_back("rewrote the footer at the end of the file from the copy");
    }
  }
  // Locators may reserve more space than their data uses (Platform Data Space: sectors per the
  // specification, bytes for some writers): new blocks keep out of it.
  for (int i = 0; i < kParentLocatorCount; ++i) {
    const ParentLocator& locator = header_.locators[i];
    if (locator.platform_code == 0) continue;
    const uint64_t reserved = locator.data_space < kSectorSize
                                  ? uint64_t{locator.data_space} * kSectorSize
                                  : align_up(locator.data_space, kSectorSize);
    ranges.push_back({locator.data_offset, std::min<uint64_t>(reserved, kMaxLocatorBytes),
                      "parent locator space"});
  }
  free_ = FreeSpace::gaps(ranges, 0, footer_offset_);
  if (!bat_problems_.empty() && file_.writable()) {
    return make_error("the image is corrupt and cannot be opened for writing: {}",
                      bat_problems_.summary());
  }
  return ok();
}

Result<void> VhdImage::open_parent(const OpenOptions& options) {
  CELLA_TRY_ASSIGN(candidates, parent_candidates(header_, file_));
  if (!options.open_backing) {
    if (!candidates.empty()) parent_path_ = candidates.front().path;
    return ok();
  }
  CELLA_TRY_ASSIGN(parent_path, find_parent(candidates, file_.path()));
  parent_path_ = parent_path;
  // [VHD] "Implementing a Differencing Hard Disk": the parent is a VHD.
  CELLA_TRY_ASSIGN(parent, open_backing_image(file_.path(), std::filesystem::absolute(parent_path),
                                              "vhd", options));
  if (parent->format_name() != "vhd") {
    return make_error("parent {} is a {} image, not a VHD", parent_path, parent->format_name());
  }
  const auto* vhd_parent = static_cast<const VhdImage*>(parent.get());
  // [VHD] "Dynamic Disk Header Format", Parent Unique ID: the parent's footer Unique Id.
  if (vhd_parent->footer_.unique_id != header_.parent_unique_id) {
    return make_error(
        "parent {} has unique id {}, but this differencing disk was made from a "
        "parent with unique id {}: the parent was replaced or recreated",
        parent_path, vhd_parent->footer_.unique_id.to_string(),
        header_.parent_unique_id.to_string());
  }
  // Parent Time Stamp: the parent's modification time. Copying a file changes that time, so a
  // mismatch is reported, not refused; the unique id above is the identity check.
  struct stat st {};
  const bool mtime_matches =
      ::stat(parent_path.c_str(), &st) == 0 &&
      static_cast<int64_t>(st.st_mtime) - kVhdEpoch == int64_t{header_.parent_timestamp};
  if (!mtime_matches && vhd_parent->footer_.timestamp != header_.parent_timestamp) {
    std::string message = fmt::format(
        "parent {} does not carry the time stamp recorded in {} ({}): it may have been "
        "modified after the differencing disk was made",
        parent_path, file_.path(), header_.parent_timestamp);
    log::warn("{}", message);
    warnings_.push_back(std::move(message));
  }
  parent_ = std::move(parent);
  return ok();
}

int64_t VhdImage::block_offset(uint64_t block) const {
  if (auto it = pending_.find(block); it != pending_.end()) return static_cast<int64_t>(it->second);
  if (block >= bat_.size() || bat_[block] == kUnusedBatEntry) return -1;
  return static_cast<int64_t>(uint64_t{bat_[block]} * kSectorSize);
}

Result<void> VhdImage::check_block_usable(uint64_t block) const {
  if (block < bad_blocks_.size() && bad_blocks_[block]) {
    return make_error("block {} has a corrupt BAT entry (run check for details)", block);
  }
  return ok();
}

std::string VhdImage::backing_file() const {
  return parent_path_.empty() ? "" : std::filesystem::absolute(parent_path_).string();
}

Result<void> VhdImage::set_backing(const std::string& /*path*/, const std::string& /*format*/) {
  return make_error("{}: changing the parent of a differencing VHD (rebase) is not supported",
                    path());
}

}  // namespace cella::block::vhd
