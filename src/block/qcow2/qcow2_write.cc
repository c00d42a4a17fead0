// Writes of guest data: in place, copy on write, subclusters, compressed clusters.
#include <algorithm>
#include <cstring>

#include "block/qcow2/compression.h"
#include "block/qcow2/qcow2_image.h"

namespace cella::block::qcow2 {

namespace {

constexpr size_t kBatch = 512;  // L2 entries examined per step (one table at most)
constexpr size_t kMaxPendingFrees = 4096;

}  // namespace

Result<void> Qcow2Image::check_data_target(uint64_t host, uint64_t clusters,
                                           uint64_t guest_offset) {
  if (auto clash = metadata_.find(layout_.cluster_index(host), clusters)) {
    return fail_corrupt(make_error("guest offset {:#x} maps to host offset {:#x}, which holds {}",
                                   guest_offset, host,
                                   describe_region(*clash, layout_.cluster_size)));
  }
  return ok();
}

Result<void> Qcow2Image::check_existing_target(uint64_t host, uint64_t clusters,
                                               uint64_t guest_offset) {
  // An exclusively owned cluster holds data, so it lies inside the file; an entry pointing
  // past the end would grow the file to wherever a damaged entry says.
  CELLA_TRY_ASSIGN(end, storage_.end());
  if (host >= end) {
    return fail_corrupt(
        make_error("guest offset {:#x} maps to host offset {:#x}, beyond the end "
                   "of the file",
                   guest_offset, host));
  }
  return check_data_target(host, clusters, guest_offset);
}

void Qcow2Image::queue_free(L2Slot old) {
  const ClusterEntry e = decode_l2_entry(layout_, old);
  if (e.invalid) return;  // never trust a damaged entry with a refcount decrement
  if (e.kind == ClusterKind::kAllocated) {
    pending_frees_.push_back({e.host_offset, layout_.cluster_size});
  } else if (e.kind == ClusterKind::kCompressed) {
    pending_frees_.push_back({e.host_offset, e.compressed_bytes});
  }
}

Result<void> Qcow2Image::write(uint64_t offset, std::span<const uint8_t> data) {
  CELLA_TRY(check_request(offset, data.size(), true));
  CELLA_TRY(begin_writing());
  CELLA_TRY(write_clusters(offset, data));
  if (pending_frees_.size() > kMaxPendingFrees) CELLA_TRY(flush());
  return ok();
}

namespace {

// The cluster is exclusively owned and the subclusters a write touches already hold data:
// the write goes straight to the host cluster.
bool writable_in_place(const ClusterEntry& e, uint32_t touched) {
  return !e.invalid && e.kind == ClusterKind::kAllocated && e.copied &&
         (e.allocated & touched) == touched;
}

}  // namespace

Result<void> Qcow2Image::write_clusters(uint64_t offset, std::span<const uint8_t> data) {
  const uint64_t cs = layout_.cluster_size;
  L2Slot entries[kBatch];
  while (!data.empty()) {
    const uint64_t guest_cluster = layout_.cluster_index(offset);
    const uint64_t in = layout_.offset_in_cluster(offset);
    const uint64_t wanted = std::min<uint64_t>(layout_.clusters_for(in + data.size()), kBatch);
    CELLA_TRY_ASSIGN(n, clusters_.entries(guest_cluster, wanted, entries));
    // The subclusters of cluster i that the write touches.
    auto touched = [&](size_t i) {
      const uint64_t from = i == 0 ? in : 0;
      const uint64_t to = std::min<uint64_t>(cs, in + data.size() - i * cs);
      return layout_.subclusters_touched(from, to);
    };
    const ClusterEntry first = decode_l2_entry(layout_, entries[0]);
    if (writable_in_place(first, touched(0))) {
      size_t run = 1;
      while (run < n && in + data.size() > run * cs) {
        const ClusterEntry e = decode_l2_entry(layout_, entries[run]);
        if (!writable_in_place(e, touched(run)) || e.host_offset != first.host_offset + run * cs) {
          break;
        }
        ++run;
      }
      const uint64_t bytes = std::min<uint64_t>(data.size(), run * cs - in);
      CELLA_TRY(check_existing_target(first.host_offset, layout_.clusters_for(in + bytes), offset));
      CELLA_TRY(storage_.write(first.host_offset + in, data.first(bytes)));
      offset += bytes;
      data = data.subspan(bytes);
      continue;
    }
    if (in == 0 && data.size() >= cs) {
      // Whole clusters to replace: one contiguous allocation, no copy on write.
      size_t run = 1;
      while (
          run < n && data.size() >= (run + 1) * cs &&
          !writable_in_place(decode_l2_entry(layout_, entries[run]), layout_.all_subclusters())) {
        ++run;
      }
      CELLA_TRY(write_new_clusters(guest_cluster, run, data.first(run * cs)));
      offset += run * cs;
      data = data.subspan(run * cs);
      continue;
    }
    const uint64_t bytes = std::min<uint64_t>(data.size(), cs - in);
    CELLA_TRY(write_partial_cluster(guest_cluster, in, data.first(bytes)));
    offset += bytes;
    data = data.subspan(bytes);
  }
  return ok();
}

Result<void> Qcow2Image::write_new_clusters(uint64_t guest_cluster, uint64_t count,
                                            std::span<const uint8_t> data) {
  CELLA_TRY_ASSIGN(table, clusters_.writable_table(guest_cluster, pending_frees_));
  const uint64_t index = guest_cluster % layout_.l2_entries;
  CELLA_TRY_ASSIGN(host, refcounts_.allocate(count));
  CELLA_TRY(check_data_target(host, count, guest_cluster << layout_.cluster_bits));
  CELLA_TRY(storage_.write(host, data));
  for (uint64_t j = 0; j < count; ++j) {
    const L2Slot old = clusters_.get(table, index + j);
    clusters_.set(table, index + j,
                  encode_allocated(layout_, host + j * layout_.cluster_size, true,
                                   layout_.all_subclusters(), 0));
    queue_free(old);
  }
  return ok();
}

Result<void> Qcow2Image::write_partial_cluster(uint64_t guest_cluster, uint64_t in,
                                               std::span<const uint8_t> data) {
  const uint64_t cs = layout_.cluster_size;
  const uint64_t guest = guest_cluster << layout_.cluster_bits;
  CELLA_TRY_ASSIGN(table, clusters_.writable_table(guest_cluster, pending_frees_));
  const uint64_t index = guest_cluster % layout_.l2_entries;
  const L2Slot old = clusters_.get(table, index);
  const ClusterEntry e = decode_l2_entry(layout_, old);
  if (e.invalid) {
    return fail_corrupt(
        make_error("the L2 entry for guest offset {:#x} is invalid ({:#x})", guest, old.entry));
  }
  const uint64_t to = in + data.size();
  const uint32_t touched = layout_.subclusters_touched(in, to);
  // The touched subclusters, whole: the parts the write leaves alone keep what they read.
  uint64_t from = in / layout_.subcluster_size * layout_.subcluster_size;
  uint64_t end = std::min(
      cs, (to + layout_.subcluster_size - 1) / layout_.subcluster_size * layout_.subcluster_size);
  const bool in_place = e.kind == ClusterKind::kAllocated && e.copied;
  const bool whole_copy = !in_place && e.kind != ClusterKind::kUnallocated;
  if (whole_copy) {
    from = 0;
    end = cs;
  }
  // What the untouched parts read, before anything is allocated: a failed read (say, from a
  // backing file that was not opened) leaves the image as it was, without a leaked cluster.
  std::vector<uint8_t> buffer(end - from);
  if (from < in || to < end) CELLA_TRY(read_cluster_range(guest_cluster, old, from, buffer));
  std::memcpy(buffer.data() + (in - from), data.data(), data.size());
  uint64_t host = 0;
  L2Slot updated;
  if (in_place) {
    // An exclusively owned cluster whose touched subclusters hold no data yet (zeros or the
    // backing file): fill them in place.
    host = e.host_offset;
    CELLA_TRY(check_existing_target(host, 1, guest));
    updated = encode_allocated(layout_, host, true, e.allocated | touched, e.zero & ~touched);
  } else {
    // Unallocated: a new cluster holding only the touched subclusters; the others keep
    // reading zeros or the backing file. Compressed or shared: a copy of the whole cluster.
    CELLA_TRY_ASSIGN(allocated, refcounts_.allocate(1));
    host = allocated;
    CELLA_TRY(check_data_target(host, 1, guest));
    updated = whole_copy ? encode_allocated(layout_, host, true, layout_.all_subclusters(), 0)
                         : encode_allocated(layout_, host, true, touched, e.zero & ~touched);
    if (whole_copy) queue_free(old);
  }
  CELLA_TRY(storage_.write(host + from, buffer));
  clusters_.set(table, index, updated);
  return ok();
}

Result<void> Qcow2Image::write_compressed(uint64_t offset, std::span<const uint8_t> cluster) {
  const uint64_t expected = offset < size() ? std::min(layout_.cluster_size, size() - offset) : 0;
  if (offset % layout_.cluster_size != 0 || cluster.size() != expected || expected == 0) {
    return make_error("compressed write of {} bytes at {} is not one whole cluster", cluster.size(),
                      offset);
  }
  CELLA_TRY(check_request(offset, cluster.size(), true));
  CELLA_TRY(begin_writing());
  std::vector<uint8_t> padded;
  if (cluster.size() < layout_.cluster_size) {
    padded.assign(layout_.cluster_size, 0);
    std::copy(cluster.begin(), cluster.end(), padded.begin());
    cluster = padded;
  }
  // Policy: store compressed only when that saves at least one sector.
  CELLA_TRY_ASSIGN(compressed, compress_cluster(header_.compression_type, cluster,
                                                layout_.cluster_size - kCompressedSectorSize));
  if (!compressed) return write_clusters(offset, cluster.first(expected));
  const uint64_t guest_cluster = layout_.cluster_index(offset);
  CELLA_TRY_ASSIGN(table, clusters_.writable_table(guest_cluster, pending_frees_));
  const uint64_t index = guest_cluster % layout_.l2_entries;
  CELLA_TRY_ASSIGN(host, refcounts_.allocate_bytes(compressed->size()));
  if (host >> layout_.compressed_offset_bits != 0) {
    return make_error("host offset {:#x} is too large for a compressed cluster descriptor", host);
  }
  const uint64_t first = layout_.cluster_index(host);
  const uint64_t last = layout_.cluster_index(host + compressed->size() - 1);
  CELLA_TRY(check_data_target(host, last - first + 1, offset));
  CELLA_TRY(storage_.write(host, *compressed));
  const L2Slot old = clusters_.get(table, index);
  clusters_.set(table, index, encode_compressed(layout_, host, compressed->size()));
  queue_free(old);
  if (pending_frees_.size() > kMaxPendingFrees) CELLA_TRY(flush());
  return ok();
}

}  // namespace cella::block::qcow2
