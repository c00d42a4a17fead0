// Zeroing and deallocation: write_zeroes (v3 zero flag; v2 deallocation or real zeros) and
// discard.
#include <algorithm>

#include "base/bits.h"
#include "block/qcow2/qcow2_image.h"

namespace cella::block::qcow2 {

namespace {

constexpr size_t kBatch = 512;
constexpr size_t kMaxPendingFrees = 4096;

// The host cluster an entry keeps, or 0.
uint64_t host_of(const Layout& layout, L2Slot slot) {
  const ClusterEntry e = decode_l2_entry(layout, slot);
  return e.invalid || e.kind == ClusterKind::kUnallocated ? 0 : e.host_offset;
}

}  // namespace

Result<bool> Qcow2Image::cluster_reads_zero(uint64_t guest_cluster) {
  CELLA_TRY_ASSIGN(slot, clusters_.entry(guest_cluster));
  const ClusterEntry e = decode_l2_entry(layout_, slot);
  if (e.invalid || e.kind == ClusterKind::kCompressed || e.allocated != 0) return false;
  if (e.zero == layout_.all_subclusters() || !has_backing_file()) return true;
  // Some subclusters read from the backing file: zeros past its end.
  return backing_ && (guest_cluster << layout_.cluster_bits) >= backing_->size();
}

Result<void> Qcow2Image::zero_partial(uint64_t offset, uint64_t length) {
  const uint64_t guest_cluster = layout_.cluster_index(offset);
  CELLA_TRY_ASSIGN(zero, cluster_reads_zero(guest_cluster));
  if (zero) return ok();
  if (layout_.extended_l2) {
    // "== Extended L2 Entries ==": whole subclusters become zero subclusters; only partial
    // ones at the edges get real zeros.
    const uint64_t sub = layout_.subcluster_size;
    const uint64_t in = layout_.offset_in_cluster(offset);
    const uint64_t first = (in + sub - 1) / sub * sub;
    const uint64_t last = (in + length) / sub * sub;
    if (last > first) {
      const uint32_t mask = layout_.subclusters_touched(first, last);
      CELLA_TRY(rewrite_entries(guest_cluster, 1, [&](L2Slot slot) {
        const ClusterEntry e = decode_l2_entry(layout_, slot);
        if (e.invalid || e.kind == ClusterKind::kCompressed) return slot;  // zeros written below
        if (e.kind == ClusterKind::kUnallocated) return encode_unallocated(layout_, e.zero | mask);
        return encode_allocated(layout_, e.host_offset, e.copied, e.allocated & ~mask,
                                e.zero | mask);
      }));
      CELLA_TRY_ASSIGN(slot, clusters_.entry(guest_cluster));
      if (decode_l2_entry(layout_, slot).kind != ClusterKind::kCompressed) {
        const uint64_t cluster_start = guest_cluster << layout_.cluster_bits;
        if (cluster_start + first > offset) {
          CELLA_TRY(zero_partial_bytes(offset, cluster_start + first - offset));
        }
        if (offset + length > cluster_start + last) {
          CELLA_TRY(
              zero_partial_bytes(cluster_start + last, offset + length - cluster_start - last));
        }
        return ok();
      }
    }
  }
  return zero_partial_bytes(offset, length);
}

Result<void> Qcow2Image::zero_partial_bytes(uint64_t offset, uint64_t length) {
  std::vector<uint8_t> zeros(length, 0);
  return write_clusters(offset, zeros);
}

template <class Rule>
Result<void> Qcow2Image::rewrite_entries(uint64_t guest_cluster, uint64_t count, Rule rule) {
  L2Slot entries[kBatch];
  while (count > 0) {
    CELLA_TRY_ASSIGN(n,
                     clusters_.entries(guest_cluster, std::min<uint64_t>(count, kBatch), entries));
    bool changes = false;
    for (size_t i = 0; i < n && !changes; ++i) changes = !(rule(entries[i]) == entries[i]);
    if (changes) {
      CELLA_TRY_ASSIGN(table, clusters_.writable_table(guest_cluster, pending_frees_));
      const uint64_t index = guest_cluster % layout_.l2_entries;
      for (size_t i = 0; i < n; ++i) {
        const L2Slot old = clusters_.get(table, index + i);
        const L2Slot updated = rule(old);
        if (updated == old) continue;
        clusters_.set(table, index + i, updated);
        const uint64_t old_host = host_of(layout_, old);
        if (old_host != 0 && old_host != host_of(layout_, updated)) queue_free(old);
      }
    }
    guest_cluster += n;
    count -= n;
  }
  if (pending_frees_.size() > kMaxPendingFrees) CELLA_TRY(flush());
  return ok();
}

Result<void> Qcow2Image::zero_clusters(uint64_t guest_cluster, uint64_t count, bool may_unmap) {
  if (layout_.version < 3) {
    // Version 2 has no zero flag: deallocate when nothing shows through, else write zeros.
    if (!has_backing_file() && may_unmap) return deallocate_clusters(guest_cluster, count, true);
    std::vector<uint8_t> zeros(layout_.cluster_size, 0);
    for (uint64_t c = guest_cluster; c < guest_cluster + count; ++c) {
      CELLA_TRY_ASSIGN(zero, cluster_reads_zero(c));
      if (zero) continue;
      const uint64_t start = c << layout_.cluster_bits;
      const uint64_t end = std::max(start, std::min(start + layout_.cluster_size, size()));
      CELLA_TRY(write_clusters(start, std::span<const uint8_t>(zeros.data(), end - start)));
    }
    return ok();
  }
  // "Standard Cluster Descriptor" bit 0 / the zero bits of extended entries: the cluster reads
  // as zeros; without may_unmap an exclusively owned host cluster stays allocated
  // (preallocated zeros).
  const bool backing = has_backing_file();
  const uint32_t all = layout_.all_subclusters();
  return rewrite_entries(guest_cluster, count, [&](L2Slot old) -> L2Slot {
    const ClusterEntry e = decode_l2_entry(layout_, old);
    if (e.invalid || e.kind == ClusterKind::kCompressed) return encode_unallocated(layout_, all);
    if (e.kind == ClusterKind::kUnallocated) {
      // Without a backing file unallocated subclusters already read as zeros.
      return backing && e.zero != all ? encode_unallocated(layout_, all) : old;
    }
    if (may_unmap || !e.copied) return encode_unallocated(layout_, all);
    return encode_allocated(layout_, e.host_offset, true, 0, all);
  });
}

Result<void> Qcow2Image::deallocate_clusters(uint64_t guest_cluster, uint64_t count,
                                             bool to_unallocated) {
  const L2Slot target = encode_unallocated(layout_, to_unallocated ? 0 : layout_.all_subclusters());
  return rewrite_entries(guest_cluster, count, [target](L2Slot) { return target; });
}

Result<void> Qcow2Image::write_zeroes(uint64_t offset, uint64_t length, bool may_unmap) {
  CELLA_TRY(check_request(offset, length, true));
  if (length == 0) return ok();
  CELLA_TRY(begin_writing());
  const uint64_t end = offset + length;
  const uint64_t cs = layout_.cluster_size;
  // The disk's last cluster counts as whole when the range reaches the end of the disk.
  const uint64_t first_full = align_up(offset, cs);
  const uint64_t last_full = end == size() ? align_up(end, cs) : align_down(end, cs);
  const uint64_t head_end = std::min(first_full, end);
  if (offset < head_end) CELLA_TRY(zero_partial(offset, head_end - offset));
  if (last_full > first_full) {
    CELLA_TRY(zero_clusters(first_full / cs, (last_full - first_full) / cs, may_unmap));
  }
  const uint64_t tail_start = std::max(last_full, head_end);
  if (tail_start < end) CELLA_TRY(zero_partial(tail_start, end - tail_start));
  return ok();
}

Result<void> Qcow2Image::discard(uint64_t offset, uint64_t length) {
  CELLA_TRY(check_request(offset, length, true));
  if (length == 0) return ok();
  CELLA_TRY(begin_writing());
  const uint64_t end = offset + length;
  const uint64_t cs = layout_.cluster_size;
  const uint64_t first_full = align_up(offset, cs);
  const uint64_t last_full = end == size() ? align_up(end, cs) : align_down(end, cs);
  if (last_full <= first_full) return ok();  // discard is a hint: partial clusters stay
  // Whole clusters are freed. With a backing file, version 3 keeps them reading as zeros (zero
  // clusters); version 2 cannot, so they read from the backing file again.
  const bool to_unallocated = layout_.version < 3 || !has_backing_file();
  return deallocate_clusters(first_full / cs, (last_full - first_full) / cs, to_unallocated);
}

Result<void> Qcow2Image::make_empty() {
  CELLA_TRY(check_request(0, 0, true));
  CELLA_TRY(begin_writing());
  CELLA_TRY(deallocate_clusters(0, layout_.clusters_for(size()), true));
  return flush();
}

}  // namespace cella::block::qcow2
