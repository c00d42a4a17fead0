// Growing VHD images. A fixed disk moves its footer; a dynamic or differencing disk grows within
// its BAT, or first moves the BAT to the end of the file with room for the new blocks. Each step
// leaves an image that opens: the size changes last, in the footer.
#include <algorithm>

#include "base/bits.h"
#include "block/vhd/vhd_geometry.h"
#include "block/vhd/vhd_image.h"

namespace cella::block::vhd {

Result<void> VhdImage::resize(uint64_t new_size) {
  if (read_only()) return make_error("{}: the image is open read-only", path());
  if (new_size < size_) {
    return make_error("shrinking a VHD image is not supported ({} to {} bytes would drop data)",
                      size_, new_size);
  }
  if (new_size == size_) return ok();
  // Keep the image's size rule: an image sized by its geometry stays so (rounded up like
  // `create`), one with the maximum geometry (force_size) keeps the exact size.
  CELLA_TRY_ASSIGN(plan, plan_size(new_size, footer_.geometry == kMaxGeometry));
  Footer updated = footer_;
  updated.current_size = plan.size;
  updated.geometry = plan.geometry;

  if (!sparse()) {
    // 1. A footer still giving the old size, at the new end: the file opens as before.
    CELLA_TRY(write_footer_at(plan.size));
    CELLA_TRY(file_.flush());
    footer_offset_ = plan.size;
    // 2. The grown area, old footer included, reads as zeros.
    CELLA_TRY(file_.punch_hole(footer_.current_size, plan.size - footer_.current_size));
    CELLA_TRY(file_.flush());
    // 3. The new size.
    footer_ = updated;
    CELLA_TRY(write_footer_at(footer_offset_));
    CELLA_TRY(file_.flush());
    size_ = virtual_size(footer_);
    return ok();
  }

  const uint64_t blocks = (plan.size + block_size_ - 1) / block_size_;
  if (blocks > header_.max_table_entries) {
    CELLA_TRY(grow_bat(static_cast<uint32_t>(blocks)));
  }
  // Entries past the old end were ignored at open (and read as unused in memory); whatever
  // another tool left in them on disk must not reappear once the disk covers them.
  const uint64_t old_blocks = block_count();
  if (blocks > old_blocks) {
    CELLA_TRY(write_bat_entries(old_blocks, blocks - old_blocks));
    CELLA_TRY(file_.flush());
  }
  footer_ = updated;
  CELLA_TRY(write_footer_at(footer_offset_));
  CELLA_TRY(file_.flush());
  CELLA_TRY(write_footer_at(0));
  CELLA_TRY(file_.flush());
  size_ = virtual_size(footer_);
  return ok();
}

Result<void> VhdImage::grow_bat(uint32_t entries) {
  const uint64_t old_offset = header_.table_offset;
  const uint64_t old_bytes = align_up(uint64_t{header_.max_table_entries} * 4, kSectorSize);
  const uint64_t new_bytes = align_up(uint64_t{entries} * 4, kSectorSize);
  // 1. The new table, complete, in free space or past the last block (footer moved first).
  uint64_t offset;
  if (auto gap = free_.take(new_bytes, kSectorSize)) {
    offset = *gap;
  } else {
    offset = footer_offset_;
    CELLA_TRY(write_footer_at(footer_offset_ + new_bytes));
    footer_offset_ += new_bytes;
  }
  std::vector<uint8_t> table(new_bytes, 0xFF);
  for (size_t i = 0; i < bat_.size(); ++i) store_be<uint32_t>(&table[i * 4], bat_[i]);
  CELLA_TRY(file_.write(offset, table));
  CELLA_TRY(file_.flush());
  // 2. The header names it. Table Offset, Max Table Entries and Checksum share the header's
  // first sector, so the switch is one sector write.
  header_.table_offset = offset;
  header_.max_table_entries = entries;
  CELLA_TRY(file_.write(footer_.data_offset, serialize_dynamic_header(header_)));
  CELLA_TRY(file_.flush());
  bat_.resize(entries, kUnusedBatEntry);
  bad_blocks_.resize(entries, false);
  // 3. The old table's space is free.
  CELLA_TRY(file_.punch_hole(old_offset, old_bytes));
  free_.add(old_offset, old_bytes);
  return ok();
}

}  // namespace cella::block::vhd
