// Reads and writes of guest data: cluster lookups, copy-on-write allocation, compressed
// clusters.
#include <algorithm>
#include <cstring>

#include "block/qcow2/compression.h"
#include "block/qcow2/qcow2_image.h"

namespace cella::block::qcow2 {

namespace {

constexpr size_t kBatch = 512;  // L2 entries examined per step (one table at most)
constexpr size_t kMaxPendingFrees = 4096;

enum class RunClass { kData, kZero, kUnallocated, kCompressed, kInvalid };

RunClass classify(const ClusterEntry& e) {
  if (e.invalid) return RunClass::kInvalid;
  switch (e.kind) {
    case ClusterKind::kNormal:
      return RunClass::kData;
    case ClusterKind::kZero:
    case ClusterKind::kZeroAllocated:
      return RunClass::kZero;
    case ClusterKind::kCompressed:
      return RunClass::kCompressed;
    case ClusterKind::kUnallocated:
      break;
  }
  return RunClass::kUnallocated;
}

// How many of entries[0..n) continue the run that entries[0] starts.
size_t run_length(const Layout& layout, const uint64_t* entries, size_t n) {
  const ClusterEntry first = decode_l2_entry(layout, entries[0]);
  const RunClass kind = classify(first);
  if (kind == RunClass::kCompressed || kind == RunClass::kInvalid) return 1;
  size_t run = 1;
  for (; run < n; ++run) {
    const ClusterEntry e = decode_l2_entry(layout, entries[run]);
    if (classify(e) != kind) break;
    if (kind == RunClass::kData && e.host_offset != first.host_offset + run * layout.cluster_size) {
      break;
    }
  }
  return run;
}

bool writable_in_place(const ClusterEntry& e) {
  return !e.invalid && e.kind == ClusterKind::kNormal && e.copied;
}

}  // namespace

Result<void> Qcow2Image::read_backing(uint64_t offset, std::span<uint8_t> out) {
  uint64_t available = 0;
  if (backing_ && offset < backing_->size()) {
    available = std::min<uint64_t>(out.size(), backing_->size() - offset);
    CELLA_TRY(backing_->read(offset, out.first(available)));
  }
  std::fill(out.begin() + available, out.end(), 0);
  return ok();
}

Result<void> Qcow2Image::read_compressed(uint64_t guest_offset, uint64_t raw_entry,
                                         uint64_t in_cluster, std::span<uint8_t> out) {
  if (decompressed_entry_ != raw_entry || decompressed_.size() != layout_.cluster_size) {
    const ClusterEntry e = decode_l2_entry(layout_, raw_entry);
    std::vector<uint8_t> compressed(e.compressed_bytes);
    CELLA_TRY(storage_.read_zero_filled(e.host_offset, compressed));
    decompressed_.resize(layout_.cluster_size);
    decompressed_entry_ = 0;
    if (auto done = decompress_cluster(header_.compression_type, compressed, decompressed_);
        !done) {
      return make_error(
          "compressed cluster for guest offset {:#x} (host offset {:#x}, {} bytes) "
          "is corrupt: {}",
          guest_offset, e.host_offset, e.compressed_bytes, done.error().message());
    }
    decompressed_entry_ = raw_entry;
  }
  std::memcpy(out.data(), decompressed_.data() + in_cluster, out.size());
  return ok();
}

Result<void> Qcow2Image::read(uint64_t offset, std::span<uint8_t> out) {
  CELLA_TRY(check_request(offset, out.size(), false));
  uint64_t entries[kBatch];
  while (!out.empty()) {
    const uint64_t guest_cluster = layout_.cluster_index(offset);
    const uint64_t in = layout_.offset_in_cluster(offset);
    const uint64_t wanted = std::min<uint64_t>(layout_.clusters_for(in + out.size()), kBatch);
    CELLA_TRY_ASSIGN(n, clusters_.entries(guest_cluster, wanted, entries));
    const size_t run = run_length(layout_, entries, n);
    const uint64_t bytes = std::min<uint64_t>(out.size(), run * layout_.cluster_size - in);
    std::span<uint8_t> chunk = out.first(bytes);
    const ClusterEntry first = decode_l2_entry(layout_, entries[0]);
    switch (classify(first)) {
      case RunClass::kInvalid:
        return make_error(
            "{}: the L2 entry for guest offset {:#x} is corrupt ({:#x}); run "
            "'cella img check'",
            path(), offset - in, entries[0]);
      case RunClass::kData:
        CELLA_TRY(storage_.read_zero_filled(first.host_offset + in, chunk));
        break;
      case RunClass::kZero:
        std::fill(chunk.begin(), chunk.end(), 0);
        break;
      case RunClass::kUnallocated:
        CELLA_TRY(read_backing(offset, chunk));
        break;
      case RunClass::kCompressed:
        CELLA_TRY(read_compressed(offset - in, entries[0], in, chunk));
        break;
    }
    offset += bytes;
    out = out.subspan(bytes);
  }
  return ok();
}

Result<void> Qcow2Image::read_cluster_content(uint64_t guest_cluster, uint64_t raw_entry,
                                              std::span<uint8_t> out) {
  const ClusterEntry e = decode_l2_entry(layout_, raw_entry);
  const uint64_t guest = guest_cluster << layout_.cluster_bits;
  switch (classify(e)) {
    case RunClass::kInvalid:
      return fail_corrupt(
          make_error("the L2 entry for guest offset {:#x} is invalid ({:#x})", guest, raw_entry));
    case RunClass::kData:
      return storage_.read_zero_filled(e.host_offset, out);
    case RunClass::kZero:
      std::fill(out.begin(), out.end(), 0);
      return ok();
    case RunClass::kUnallocated:
      return read_backing(guest, out);
    case RunClass::kCompressed:
      return read_compressed(guest, raw_entry, 0, out);
  }
  return ok();
}

Result<void> Qcow2Image::check_data_target(uint64_t host, uint64_t clusters,
                                           uint64_t guest_offset) {
  if (auto clash = metadata_.find(layout_.cluster_index(host), clusters)) {
    return fail_corrupt(make_error("guest offset {:#x} maps to host offset {:#x}, which holds {}",
                                   guest_offset, host,
                                   describe_region(*clash, layout_.cluster_size)));
  }
  return ok();
}

void Qcow2Image::queue_free(uint64_t raw_entry) {
  const ClusterEntry e = decode_l2_entry(layout_, raw_entry);
  if (e.invalid) return;  // never trust a damaged entry with a refcount decrement
  if (e.kind == ClusterKind::kNormal || e.kind == ClusterKind::kZeroAllocated) {
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

Result<void> Qcow2Image::write_clusters(uint64_t offset, std::span<const uint8_t> data) {
  uint64_t entries[kBatch];
  while (!data.empty()) {
    const uint64_t guest_cluster = layout_.cluster_index(offset);
    const uint64_t in = layout_.offset_in_cluster(offset);
    const uint64_t wanted = std::min<uint64_t>(layout_.clusters_for(in + data.size()), kBatch);
    CELLA_TRY_ASSIGN(n, clusters_.entries(guest_cluster, wanted, entries));
    const ClusterEntry first = decode_l2_entry(layout_, entries[0]);
    const bool in_place = writable_in_place(first);
    size_t run = 1;
    for (; run < n; ++run) {
      const ClusterEntry e = decode_l2_entry(layout_, entries[run]);
      if (writable_in_place(e) != in_place) break;
      if (in_place && e.host_offset != first.host_offset + run * layout_.cluster_size) break;
    }
    const uint64_t bytes = std::min<uint64_t>(data.size(), run * layout_.cluster_size - in);
    const uint64_t clusters = layout_.clusters_for(in + bytes);
    if (in_place) {
      // An exclusively owned cluster holds data, so it lies inside the file; an entry pointing
      // past the end would grow the file to wherever a damaged entry says.
      CELLA_TRY_ASSIGN(end, storage_.end());
      if (first.host_offset >= end) {
        return fail_corrupt(
            make_error("guest offset {:#x} maps to host offset {:#x}, beyond the "
                       "end of the file",
                       offset, first.host_offset));
      }
      CELLA_TRY(check_data_target(first.host_offset, clusters, offset));
      CELLA_TRY(storage_.write(first.host_offset + in, data.first(bytes)));
    } else {
      CELLA_TRY(write_allocating(guest_cluster, clusters, in, data.first(bytes)));
    }
    offset += bytes;
    data = data.subspan(bytes);
  }
  return ok();
}

Result<void> Qcow2Image::write_allocating(uint64_t guest_cluster, uint64_t count, uint64_t head,
                                          std::span<const uint8_t> data) {
  CELLA_TRY_ASSIGN(table, clusters_.writable_table(guest_cluster, pending_frees_));
  const uint64_t index = guest_cluster % layout_.l2_entries;
  CELLA_TRY_ASSIGN(host, refcounts_.allocate(count));
  CELLA_TRY(check_data_target(host, count, guest_cluster << layout_.cluster_bits));
  const uint64_t total = count * layout_.cluster_size;
  const uint64_t tail = head + data.size();
  if (head == 0 && tail == total) {
    CELLA_TRY(storage_.write(host, data));
  } else {
    // Copy on write: the parts of the first and last clusters that this write leaves alone
    // keep what they read before (backing file, zeros, compressed or shared data).
    std::vector<uint8_t> buffer(total);
    const uint64_t cs = layout_.cluster_size;
    if (head != 0) {
      CELLA_TRY(read_cluster_content(guest_cluster, table.get64(index),
                                     std::span<uint8_t>(buffer.data(), cs)));
    }
    if (tail % cs != 0 && (count > 1 || head == 0)) {
      CELLA_TRY(read_cluster_content(guest_cluster + count - 1, table.get64(index + count - 1),
                                     std::span<uint8_t>(buffer.data() + total - cs, cs)));
    }
    std::memcpy(buffer.data() + head, data.data(), data.size());
    CELLA_TRY(storage_.write(host, buffer));
  }
  for (uint64_t j = 0; j < count; ++j) {
    const uint64_t old = table.get64(index + j);
    table.set64(index + j, (host + j * layout_.cluster_size) | kCopiedFlag);
    queue_free(old);
  }
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
  const uint64_t old = table.get64(index);
  table.set64(index, encode_compressed_entry(layout_, host, compressed->size()));
  queue_free(old);
  if (pending_frees_.size() > kMaxPendingFrees) CELLA_TRY(flush());
  return ok();
}

}  // namespace cella::block::qcow2
