// Growing VHDX images: one log entry carries the new virtual disk size, the new BAT entries
// (new blocks of a fixed image), and, when the BAT region is too small, the region tables that
// point at a larger copy of it written beforehand; the change is atomic.
#include <algorithm>
#include <cstring>

#include "base/bits.h"
#include "block/vhdx/vhdx_image.h"

namespace cella::block::vhdx {

Result<void> VhdxImage::resize(uint64_t new_size) {
  if (read_only()) return make_error("{}: the image is open read-only", path());
  if (new_size < size()) {
    return make_error("shrinking a VHDX image is not supported ({} to {} bytes would drop data)",
                      size(), new_size);
  }
  if (new_size % metadata_.logical_sector_size != 0 || new_size > kMaxVirtualDiskSize) {
    return make_error("{} bytes is not a multiple of the {}-byte sector up to 64 TiB", new_size,
                      metadata_.logical_sector_size);
  }
  if (new_size == size()) return ok();
  CELLA_TRY(begin_modification());
  const BatLayout layout = BatLayout::compute(new_size, metadata_.block_size,
                                              metadata_.logical_sector_size, differencing());
  const std::vector<uint64_t> before = bat_;
  std::vector<uint64_t> changed;
  const uint64_t pages = align_up(layout.total_entries * 8, kLogSector) / 8;
  if (bat_.size() < pages) bat_.resize(pages, 0);
  // Entries the disk did not use yet must say "not present" (a fixed image's new blocks are
  // allocated, present, at once).
  for (uint64_t index = layout_.total_entries; index < layout.total_entries; ++index) {
    if (bat_[index] != 0) set_entry(index, 0, changed);
  }
  if (metadata_.leave_blocks_allocated && !differencing()) {
    for (uint64_t block = layout_.payload_blocks; block < layout.payload_blocks; ++block) {
      CELLA_TRY_ASSIGN(offset, allocate(metadata_.block_size));
      CELLA_TRY(file_.allocate(offset, metadata_.block_size));
      set_entry(layout.payload_index(block), make_entry(PayloadState::kFullyPresent, offset),
                changed);
    }
  }
  std::vector<PageUpdate> updates;
  RegionEntry old_bat = bat_region_;
  if (layout.total_entries * 8 > bat_region_.length) {
    CELLA_TRY(move_bat(layout.total_entries, updates));
  } else {
    std::sort(changed.begin(), changed.end());
    for (uint64_t index : changed) {
      const uint64_t page = index * 8 / kLogSector;
      if (!updates.empty() &&
          updates.back().file_offset == bat_region_.file_offset + page * kLogSector)
        continue;
      PageUpdate update;
      update.file_offset = bat_region_.file_offset + page * kLogSector;
      for (uint64_t i = 0; i < kLogSector / 8; ++i) {
        store_le<uint64_t>(update.bytes.data() + i * 8, bat_[page * (kLogSector / 8) + i]);
      }
      updates.push_back(update);
    }
  }
  // [MS-VHDX] 2.6.2.2: the Virtual Disk Size item, in the page(s) that hold it.
  const auto entry =
      std::find_if(metadata_entries_.begin(), metadata_entries_.end(),
                   [](const MetadataEntry& e) { return e.item == kVirtualDiskSizeItem; });
  uint8_t value[8];
  store_le<uint64_t>(value, new_size);
  CELLA_TRY(patch_pages(metadata_region_.file_offset + entry->offset, value, updates));
  auto written = log_.write(file_, updates, file_end_);
  if (!written) {
    bat_ = before;
    bat_region_ = old_bat;
    return written.error();
  }
  metadata_.virtual_disk_size = new_size;
  layout_ = layout;
  bad_entries_.resize(bat_.size(), false);
  if (old_bat.file_offset != bat_region_.file_offset) {
    CELLA_TRY(file_.punch_hole(old_bat.file_offset, old_bat.length));
    free_.add(old_bat.file_offset, old_bat.length);
  }
  return ok();
}

Result<void> VhdxImage::move_bat(uint64_t entries, std::vector<PageUpdate>& pages) {
  // The larger BAT is written whole where nothing refers to it yet; the log entry then switches
  // both region tables to it.
  const uint64_t length = align_up(entries * 8, kAlignment);
  if (length > UINT32_MAX) return make_error("the disk would need a BAT larger than 4 GiB");
  CELLA_TRY_ASSIGN(offset, allocate(length));
  std::vector<uint8_t> bytes(length, 0);
  for (size_t i = 0; i < bat_.size() && i * 8 < length; ++i)
    store_le<uint64_t>(&bytes[i * 8], bat_[i]);
  CELLA_TRY(file_.write(offset, bytes));
  for (RegionEntry& region : regions_) {
    if (region.guid == kBatRegion) {
      region.file_offset = offset;
      region.length = static_cast<uint32_t>(length);
    }
  }
  bat_region_ = {kBatRegion, offset, static_cast<uint32_t>(length), bat_region_.required};
  const std::vector<uint8_t> table = serialize_region_table(regions_);
  for (uint64_t table_offset : kRegionTableOffsets) {
    for (uint64_t page = 0; page < kRegionTableSize; page += kLogSector) {
      PageUpdate update;
      update.file_offset = table_offset + page;
      std::memcpy(update.bytes.data(), table.data() + page, kLogSector);
      pages.push_back(update);
    }
  }
  return ok();
}

}  // namespace cella::block::vhdx
