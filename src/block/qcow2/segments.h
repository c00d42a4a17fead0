// A cluster's content as runs of subclusters in one state: data in the host cluster, zeros,
// the backing file, or one compressed cluster. Without extended L2 entries a cluster is one
// run ("== Extended L2 Entries ==").
#pragma once

#include <algorithm>
#include <cstdint>

#include "base/result.h"
#include "block/qcow2/layout.h"

namespace cella::block::qcow2 {

enum class SegmentKind : uint8_t { kData, kZero, kBacking, kCompressed };

struct Segment {
  SegmentKind kind = SegmentKind::kBacking;
  uint64_t from = 0;  // bytes [from, to) of the cluster
  uint64_t to = 0;
  // The host offset of `from` when the cluster has a host cluster (compressed ones excepted):
  // where data is, or where preallocated zeros or not yet allocated subclusters would be.
  uint64_t host = 0;
};

inline SegmentKind subcluster_kind(const ClusterEntry& e, uint32_t subcluster) {
  if (e.kind == ClusterKind::kCompressed) return SegmentKind::kCompressed;
  if ((e.allocated >> subcluster) & 1) return SegmentKind::kData;
  if ((e.zero >> subcluster) & 1) return SegmentKind::kZero;
  return SegmentKind::kBacking;
}

// Calls f(segment), which returns Result<void>, for each run within bytes [from, to) of a
// valid cluster entry, in order; stops at the first error.
template <class F>
Result<void> for_each_segment(const Layout& layout, const ClusterEntry& e, uint64_t from,
                              uint64_t to, F f) {
  if (e.kind == ClusterKind::kCompressed) return f(Segment{SegmentKind::kCompressed, from, to, 0});
  uint64_t at = from;
  while (at < to) {
    const auto subcluster = static_cast<uint32_t>(at / layout.subcluster_size);
    const SegmentKind kind = subcluster_kind(e, subcluster);
    uint32_t last = subcluster;
    while ((last + 1) * layout.subcluster_size < to && subcluster_kind(e, last + 1) == kind) ++last;
    const uint64_t end = std::min(to, (last + 1) * layout.subcluster_size);
    const uint64_t host = e.kind == ClusterKind::kAllocated ? e.host_offset + at : 0;
    CELLA_TRY(f(Segment{kind, at, end, host}));
    at = end;
  }
  return ok();
}

}  // namespace cella::block::qcow2
