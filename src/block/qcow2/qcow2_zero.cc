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
uint64_t host_of(const Layout& layout, uint64_t raw) {
  const ClusterEntry e = decode_l2_entry(layout, raw);
  if (e.invalid || e.kind == ClusterKind::kUnallocated || e.kind == ClusterKind::kZero) return 0;
  return e.host_offset;
}

}  // namespace

Result<bool> Qcow2Image::cluster_reads_zero(uint64_t guest_cluster) {
  CELLA_TRY_ASSIGN(raw, clusters_.entry(guest_cluster));
  const ClusterEntry e = decode_l2_entry(layout_, raw);
  if (e.invalid) return false;
  if (e.kind == ClusterKind::kZero || e.kind == ClusterKind::kZeroAllocated) return true;
  if (e.kind != ClusterKind::kUnallocated) return false;
  if (!has_backing_file()) return true;
  return backing_ && (guest_cluster << layout_.cluster_bits) >= backing_->size();
}

Result<void> Qcow2Image::zero_partial(uint64_t offset, uint64_t length) {
  CELLA_TRY_ASSIGN(zero, cluster_reads_zero(layout_.cluster_index(offset)));
  if (zero) return ok();
  std::vector<uint8_t> zeros(length, 0);
  return write_clusters(offset, zeros);
}

template <class Rule>
Result<void> Qcow2Image::rewrite_entries(uint64_t guest_cluster, uint64_t count, Rule rule) {
  uint64_t entries[kBatch];
  while (count > 0) {
    CELLA_TRY_ASSIGN(n,
                     clusters_.entries(guest_cluster, std::min<uint64_t>(count, kBatch), entries));
    bool changes = false;
    for (size_t i = 0; i < n && !changes; ++i) changes = rule(entries[i]) != entries[i];
    if (changes) {
      CELLA_TRY_ASSIGN(table, clusters_.writable_table(guest_cluster, pending_frees_));
      const uint64_t index = guest_cluster % layout_.l2_entries;
      for (size_t i = 0; i < n; ++i) {
        const uint64_t old = table.get64(index + i);
        const uint64_t updated = rule(old);
        if (updated == old) continue;
        table.set64(index + i, updated);
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
  // "Standard Cluster Descriptor" bit 0: the cluster reads as zeros; without may_unmap an
  // exclusively owned host cluster stays allocated (preallocated zeros).
  const bool backing = has_backing_file();
  return rewrite_entries(guest_cluster, count, [&](uint64_t old) -> uint64_t {
    const ClusterEntry e = decode_l2_entry(layout_, old);
    if (e.invalid) return kZeroFlag;
    switch (e.kind) {
      case ClusterKind::kZero:
        return old;
      case ClusterKind::kUnallocated:
        return backing ? kZeroFlag : old;
      case ClusterKind::kZeroAllocated:
        return may_unmap ? kZeroFlag : old;
      case ClusterKind::kNormal:
        return (may_unmap || !e.copied) ? kZeroFlag : old | kZeroFlag;
      case ClusterKind::kCompressed:
        return kZeroFlag;
    }
    return kZeroFlag;
  });
}

Result<void> Qcow2Image::deallocate_clusters(uint64_t guest_cluster, uint64_t count,
                                             bool to_unallocated) {
  const uint64_t target = to_unallocated ? 0 : kZeroFlag;
  return rewrite_entries(guest_cluster, count, [target](uint64_t) { return target; });
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
