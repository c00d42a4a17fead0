// Resize: growing extends the L1 table when needed; shrinking drops the clusters past the new
// end, and refuses to drop data unless the caller allows it.
#include <algorithm>

#include "base/bits.h"
#include "block/qcow2/qcow2_image.h"

namespace cella::block::qcow2 {

Result<void> Qcow2Image::resize(uint64_t new_size) {
  return resize_to(new_size, false);
}

Result<void> Qcow2Image::resize_with_data_loss(uint64_t new_size) {
  return resize_to(new_size, true);
}

Result<void> Qcow2Image::write_size(uint64_t new_size) {
  uint8_t field[8];
  store_be<uint64_t>(field, new_size);
  CELLA_TRY(write_header_field(kOffSize, field));
  header_.size = new_size;
  return ok();
}

Result<void> Qcow2Image::resize_to(uint64_t new_size, bool allow_data_loss) {
  CELLA_TRY(check_request(0, 0, true));
  const uint64_t old_size = size();
  if (new_size == old_size) return ok();
  // As in create: qemu reads disks in 512-byte sectors (qemu-img refuses such sizes too).
  if (new_size % 512 != 0) return make_error("the new size {} is not a multiple of 512", new_size);
  const uint64_t needed_l1 =
      new_size / layout_.bytes_per_l2_table() + (new_size % layout_.bytes_per_l2_table() != 0);
  if (needed_l1 * 8 > kMaxL1Bytes) {
    return make_error("{} bytes need an L1 table larger than {} MiB with {}-byte clusters",
                      new_size, kMaxL1Bytes >> 20, layout_.cluster_size);
  }
  CELLA_TRY(begin_writing());
  const uint64_t cs = layout_.cluster_size;
  if (new_size > old_size) {
    CELLA_TRY(flush());
    CELLA_TRY(clusters_.grow_l1(needed_l1));
    // The new area must read as zeros: bytes past the old end in its last cluster may hold
    // stale data (a shrink keeps them), and a longer backing file must not show through.
    header_.size = new_size;
    auto zero_new_area = [&]() -> Result<void> {
      const uint64_t tail_end = std::min(align_up(old_size, cs), new_size);
      if (tail_end > old_size) CELLA_TRY(zero_partial(old_size, tail_end - old_size));
      if (tail_end % cs == 0 && backing_ && backing_->size() > tail_end) {
        const uint64_t end = std::min(align_up(backing_->size(), cs), align_up(new_size, cs));
        if (end > tail_end) CELLA_TRY(zero_clusters(tail_end / cs, (end - tail_end) / cs, false));
      }
      return flush();
    };
    if (auto zeroed = zero_new_area(); !zeroed) {
      header_.size = old_size;
      return zeroed.error();
    }
    header_.size = old_size;
    return write_size(new_size);
  }
  if (!snapshots_.empty()) {
    return make_error("{}: cannot shrink an image that has internal snapshots", path());
  }
  if (!allow_data_loss) {
    CELLA_TRY_ASSIGN(extents, map(new_size, old_size - new_size));
    for (const Extent& e : extents) {
      if (e.depth == 0 && e.kind == ExtentKind::kData) {
        return make_error(
            "shrinking to {} bytes would discard data at guest offset {:#x}; allow "
            "data loss to shrink anyway (qemu-img resize --shrink)",
            new_size, e.offset);
      }
    }
  }
  CELLA_TRY(write_size(new_size));
  // Clusters wholly past the new end go; so do L2 tables wholly past it.
  const uint64_t first_cluster = align_up(new_size, cs) / cs;
  const uint64_t first_dropped_table = needed_l1;
  const uint64_t kept_end =
      std::min(layout_.clusters_for(old_size), first_dropped_table * layout_.l2_entries);
  if (kept_end > first_cluster) {
    CELLA_TRY(deallocate_clusters(first_cluster, kept_end - first_cluster, true));
  }
  std::vector<L2Slot> entries(layout_.l2_entries);
  for (uint64_t t = first_dropped_table; t < clusters_.l1().size(); ++t) {
    if ((clusters_.l1()[t] & kL1OffsetMask) == 0) continue;
    CELLA_TRY(clusters_.entries(t * layout_.l2_entries, layout_.l2_entries, entries.data()));
    for (const L2Slot& slot : entries) queue_free(slot);
  }
  clusters_.drop_l1_entries_from(first_dropped_table, pending_frees_);
  return flush();
}

}  // namespace cella::block::qcow2
