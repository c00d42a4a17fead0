// Reads of guest data: cluster lookups run by run of subclusters, the backing chain,
// compressed clusters.
#include <algorithm>
#include <cstring>

#include "block/qcow2/compression.h"
#include "block/qcow2/qcow2_image.h"
#include "block/qcow2/segments.h"

namespace cella::block::qcow2 {

namespace {

constexpr size_t kBatch = 512;  // L2 entries examined per step (one table at most)

}  // namespace

Result<void> Qcow2Image::read_backing(uint64_t offset, std::span<uint8_t> out) {
  if (!backing_ && has_backing_file()) {
    // Opened without its chain (OpenOptions::open_backing false): zeros would be wrong, and a
    // copy-on-write would store them.
    return make_error(
        "{}: guest offset {:#x} reads from the backing file '{}', which was not opened", path(),
        offset, header_.backing_file);
  }
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
    const ClusterEntry e = decode_l2_entry(layout_, {raw_entry, 0});
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
  // Adjacent segments of one kind (and contiguous host data) become one I/O.
  struct Run {
    SegmentKind kind = SegmentKind::kZero;
    uint64_t guest = 0;
    uint64_t host = 0;
    uint64_t bytes = 0;
  } run;
  const uint64_t base = offset;
  auto flush_run = [&]() -> Result<void> {
    if (run.bytes == 0) return ok();
    std::span<uint8_t> chunk = out.subspan(run.guest - base, run.bytes);
    run.bytes = 0;
    switch (run.kind) {
      case SegmentKind::kData:
        return storage_.read_zero_filled(run.host, chunk);
      case SegmentKind::kBacking:
        return read_backing(run.guest, chunk);
      case SegmentKind::kZero:
      case SegmentKind::kCompressed:
        std::fill(chunk.begin(), chunk.end(), 0);
        return ok();
    }
    return ok();
  };
  L2Slot entries[kBatch];
  uint64_t remaining = out.size();
  while (remaining > 0) {
    const uint64_t guest_cluster = layout_.cluster_index(offset);
    const uint64_t in = layout_.offset_in_cluster(offset);
    const uint64_t wanted = std::min<uint64_t>(layout_.clusters_for(in + remaining), kBatch);
    CELLA_TRY_ASSIGN(n, clusters_.entries(guest_cluster, wanted, entries));
    for (size_t i = 0; i < n && remaining > 0; ++i) {
      const uint64_t cluster_start = (guest_cluster + i) << layout_.cluster_bits;
      const uint64_t from = i == 0 ? in : 0;
      const uint64_t to = std::min<uint64_t>(layout_.cluster_size, from + remaining);
      const ClusterEntry e = decode_l2_entry(layout_, entries[i]);
      if (e.invalid) {
        return make_error(
            "{}: the L2 entry for guest offset {:#x} is corrupt ({:#x}); run "
            "'cella img check'",
            path(), cluster_start, entries[i].entry);
      }
      auto visit = [&](const Segment& s) -> Result<void> {
        const uint64_t guest = cluster_start + s.from;
        const uint64_t bytes = s.to - s.from;
        if (s.kind == SegmentKind::kCompressed) {
          CELLA_TRY(flush_run());
          return read_compressed(cluster_start, entries[i].entry, s.from,
                                 out.subspan(guest - base, bytes));
        }
        const bool continues = run.bytes > 0 && run.kind == s.kind &&
                               (s.kind != SegmentKind::kData || run.host + run.bytes == s.host);
        if (!continues) {
          CELLA_TRY(flush_run());
          run = Run{s.kind, guest, s.host, 0};
        }
        run.bytes += bytes;
        return ok();
      };
      CELLA_TRY(for_each_segment(layout_, e, from, to, visit));
      offset += to - from;
      remaining -= to - from;
    }
  }
  return flush_run();
}

Result<void> Qcow2Image::read_cluster_range(uint64_t guest_cluster, L2Slot slot, uint64_t from,
                                            std::span<uint8_t> out) {
  const ClusterEntry e = decode_l2_entry(layout_, slot);
  const uint64_t cluster_start = guest_cluster << layout_.cluster_bits;
  if (e.invalid) {
    return fail_corrupt(make_error("the L2 entry for guest offset {:#x} is invalid ({:#x})",
                                   cluster_start, slot.entry));
  }
  return for_each_segment(layout_, e, from, from + out.size(),
                          [&](const Segment& s) -> Result<void> {
                            std::span<uint8_t> chunk = out.subspan(s.from - from, s.to - s.from);
                            switch (s.kind) {
                              case SegmentKind::kData:
                                return storage_.read_zero_filled(s.host, chunk);
                              case SegmentKind::kZero:
                                std::fill(chunk.begin(), chunk.end(), 0);
                                return ok();
                              case SegmentKind::kBacking:
                                return read_backing(cluster_start + s.from, chunk);
                              case SegmentKind::kCompressed:
                                return read_compressed(cluster_start, slot.entry, s.from, chunk);
                            }
                            return ok();
                          });
}

}  // namespace cella::block::qcow2
