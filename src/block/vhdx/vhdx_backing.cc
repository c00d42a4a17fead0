// What `cella img commit` needs of a differencing VHDX: emptying it into its parent, and
// following the parent's new DataWriteGuid ([MS-VHDX] 2.6.2.6.3 parent_linkage), which the
// commit changed by writing into the parent.
#include <algorithm>

#include "base/bits.h"
#include "block/vhdx/vhdx_image.h"

namespace cella::block::vhdx {

Result<void> VhdxImage::patch_pages(uint64_t file_offset, std::span<const uint8_t> bytes,
                                    std::vector<PageUpdate>& updates) const {
  const uint64_t end = file_offset + bytes.size();
  for (uint64_t page = align_down(file_offset, kLogSector); page < end; page += kLogSector) {
    auto update = std::find_if(updates.begin(), updates.end(),
                               [&](const PageUpdate& u) { return u.file_offset == page; });
    if (update == updates.end()) {
      updates.push_back(PageUpdate{page, {}});
      update = updates.end() - 1;
      CELLA_TRY(read_file(page, update->bytes));
    }
    const uint64_t from = std::max(page, file_offset), to = std::min(page + kLogSector, end);
    std::copy(bytes.begin() + static_cast<std::ptrdiff_t>(from - file_offset),
              bytes.begin() + static_cast<std::ptrdiff_t>(to - file_offset),
              update->bytes.begin() + static_cast<std::ptrdiff_t>(from - page));
  }
  return ok();
}

Result<void> VhdxImage::relink_parent() {
  const auto* parent = static_cast<const VhdxImage*>(parent_.get());
  const std::string linkage = fmt::format("{{{}}}", parent->header().data_write_guid.to_string());
  if (locator_value(metadata_, "parent_linkage") == linkage) return ok();
  Metadata updated = metadata_;
  for (auto& [key, value] : updated.parent_locator) {
    if (key == "parent_linkage") value = linkage;
  }
  CELLA_TRY_ASSIGN(item, encode_parent_locator(updated.parent_locator));
  const auto entry =
      std::find_if(metadata_entries_.begin(), metadata_entries_.end(),
                   [](const MetadataEntry& e) { return e.item == kParentLocatorItem; });
  // A GUID in braces has one length: the item keeps its size and place.
  if (entry == metadata_entries_.end() || item.size() != entry->length) {
    return make_error("{}: the parent locator cannot be updated in place", path());
  }
  std::vector<PageUpdate> updates;
  CELLA_TRY(patch_pages(metadata_region_.file_offset + entry->offset, item, updates));
  CELLA_TRY(log_.write(file_, updates, file_end_));
  metadata_ = std::move(updated);
  return ok();
}

Result<void> VhdxImage::make_empty() {
  if (!differencing()) return make_error("{}: not a differencing image", path());
  if (parent_ == nullptr) return make_error("{}: the parent image is not open", path());
  CELLA_TRY(begin_modification());
  // First the linkage: if the BAT change below is lost in a crash, the image is still a valid
  // child of the changed parent (its blocks hold what the parent now holds).
  CELLA_TRY(relink_parent());
  // [MS-VHDX] 2.5.1.1 PAYLOAD_BLOCK_NOT_PRESENT: every block reads from the parent again; the
  // sector bitmaps go too, so that no stale bit shows in a block made partial later.
  std::vector<uint64_t> changed;
  std::vector<std::pair<uint64_t, uint64_t>> released;  // offset, length
  auto release = [&](uint64_t index, uint64_t length, bool holds_space) {
    if (holds_space) released.emplace_back(entry_offset(bat_[index]), length);
    if (bat_[index] != 0) set_entry(index, 0, changed);
  };
  for (uint64_t block = 0; block < layout_.payload_blocks; ++block) {
    const uint64_t index = layout_.payload_index(block);
    const uint8_t state = entry_state(bat_[index]);
    release(index, metadata_.block_size,
            state == static_cast<uint8_t>(PayloadState::kFullyPresent) ||
                state == static_cast<uint8_t>(PayloadState::kPartiallyPresent));
  }
  for (uint64_t chunk = 0; chunk < layout_.bitmap_blocks; ++chunk) {
    const uint64_t index = layout_.bitmap_index(chunk);
    if (index >= layout_.total_entries) break;
    release(index, kSectorBitmapBlockSize,
            entry_state(bat_[index]) == static_cast<uint8_t>(BitmapState::kPresent));
  }
  CELLA_TRY(commit_entries(changed));
  bitmap_pages_.clear();
  for (const auto& [offset, length] : released) {  // the log entry is durable: reuse is safe
    CELLA_TRY(file_.punch_hole(offset, length));
    free_.add(offset, length);
  }
  return ok();
}

}  // namespace cella::block::vhdx
