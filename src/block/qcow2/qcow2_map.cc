// Allocation map (`cella img map`), following the backing chain like `qemu-img map`.
#include <algorithm>

#include "block/qcow2/qcow2_image.h"
#include "block/qcow2/segments.h"

namespace cella::block::qcow2 {

namespace {

constexpr size_t kBatch = 512;

void append(std::vector<Extent>& out, Extent extent) {
  if (!out.empty()) {
    Extent& last = out.back();
    const bool contiguous_host =
        (last.host_offset < 0 && extent.host_offset < 0) ||
        (last.host_offset >= 0 && extent.host_offset >= 0 &&
         last.host_offset + static_cast<int64_t>(last.length) == extent.host_offset);
    if (last.kind == extent.kind && last.depth == extent.depth &&
        last.host_file == extent.host_file && contiguous_host &&
        last.offset + last.length == extent.offset) {
      last.length += extent.length;
      return;
    }
  }
  out.push_back(std::move(extent));
}

}  // namespace

Result<std::vector<Extent>> Qcow2Image::map(uint64_t offset, uint64_t length) {
  CELLA_TRY(check_request(offset, length, false));
  std::vector<Extent> out;
  // Unallocated clusters are collected into one range and resolved by the backing chain.
  uint64_t hole_start = offset;
  uint64_t hole_length = 0;
  auto resolve_hole = [&]() -> Result<void> {
    if (hole_length == 0) return ok();
    uint64_t covered = 0;
    if (backing_ && hole_start < backing_->size()) {
      covered = std::min(hole_length, backing_->size() - hole_start);
      CELLA_TRY_ASSIGN(below, backing_->map(hole_start, covered));
      for (Extent& b : below) {
        b.depth += 1;
        append(out, std::move(b));
      }
    }
    if (covered < hole_length) {
      // Past the end of the backing file (or without one) the disk reads zeros, allocated
      // nowhere; this image is the last one consulted.
      append(out, Extent{hole_start + covered, hole_length - covered, ExtentKind::kUnallocated, 0,
                         -1, ""});
    }
    hole_length = 0;
    return ok();
  };
  L2Slot entries[kBatch];
  while (length > 0) {
    const uint64_t guest_cluster = layout_.cluster_index(offset);
    const uint64_t in = layout_.offset_in_cluster(offset);
    if (!clusters_.has_table(guest_cluster)) {
      // A whole L2 table's range is unallocated: skip it at once.
      const uint64_t table_end =
          (offset / layout_.bytes_per_l2_table() + 1) * layout_.bytes_per_l2_table();
      const uint64_t bytes = std::min(length, table_end - offset);
      if (hole_length == 0) hole_start = offset;
      hole_length += bytes;
      offset += bytes;
      length -= bytes;
      continue;
    }
    const uint64_t wanted = std::min<uint64_t>(layout_.clusters_for(in + length), kBatch);
    CELLA_TRY_ASSIGN(n, clusters_.entries(guest_cluster, wanted, entries));
    for (size_t i = 0; i < n && length > 0; ++i) {
      const uint64_t cluster_start = (guest_cluster + i) << layout_.cluster_bits;
      const uint64_t from = i == 0 ? in : 0;
      const uint64_t to = std::min<uint64_t>(layout_.cluster_size, from + length);
      const ClusterEntry e = decode_l2_entry(layout_, entries[i]);
      if (e.invalid) {
        return make_error("{}: the L2 entry for guest offset {:#x} is corrupt ({:#x})", path(),
                          cluster_start, entries[i].entry);
      }
      auto visit = [&](const Segment& s) -> Result<void> {
        const uint64_t guest = cluster_start + s.from;
        const uint64_t bytes = s.to - s.from;
        if (s.kind == SegmentKind::kBacking && (backing_ || s.host == 0)) {
          if (hole_length == 0) hole_start = guest;
          hole_length += bytes;
          return ok();
        }
        CELLA_TRY(resolve_hole());
        if (s.kind == SegmentKind::kBacking) {
          // Subclusters of a host cluster not allocated yet, with nothing below: reported with
          // the host offset they would take, as qemu-img map does.
          append(out, Extent{guest, bytes, ExtentKind::kUnallocated, 0,
                             static_cast<int64_t>(s.host), path()});
          return ok();
        }
        // Compressed data has no plain host offset; preallocated zeros keep theirs.
        Extent extent{
            guest, bytes, s.kind == SegmentKind::kZero ? ExtentKind::kZero : ExtentKind::kData,
            0,     -1,    ""};
        if (s.host != 0) {
          extent.host_offset = static_cast<int64_t>(s.host);
          extent.host_file = path();
        }
        append(out, std::move(extent));
        return ok();
      };
      CELLA_TRY(for_each_segment(layout_, e, from, to, visit));
      offset += to - from;
      length -= to - from;
    }
  }
  CELLA_TRY(resolve_hole());
  return out;
}

}  // namespace cella::block::qcow2
