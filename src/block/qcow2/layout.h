// Geometry derived from the header: cluster size, table entries, refcount widths, and the
// decoding of L2 entries ("== Cluster mapping ==").
#pragma once

#include <cstdint>

#include "block/qcow2/header.h"
#include "block/qcow2/qcow2_format.h"

namespace cella::block::qcow2 {

struct Layout {
  uint32_t cluster_bits = 16;
  uint64_t cluster_size = 65536;
  // "== Extended L2 Entries ==": 16-byte entries (entry + subcluster bitmap) and 32
  // subclusters per cluster; otherwise 8-byte entries and one "subcluster", the cluster.
  bool extended_l2 = false;
  uint64_t l2_entry_bytes = 8;
  uint64_t l2_entries = 8192;  // cluster_size / l2_entry_bytes
  uint32_t subclusters = 1;
  uint64_t subcluster_size = 65536;
  uint32_t refcount_order = 4;
  uint64_t refcount_bits = 16;
  uint64_t refcount_block_entries = 32768;  // cluster_size * 8 / refcount_bits
  uint64_t max_refcount = 0xffff;
  // "Compressed Clusters Descriptor": x = 62 - (cluster_bits - 8).
  uint32_t compressed_offset_bits = 54;
  int version = 3;

  static Layout from(const Header& header) {
    Layout l;
    l.cluster_bits = header.cluster_bits;
    l.cluster_size = uint64_t{1} << l.cluster_bits;
    l.extended_l2 = (header.incompatible_features & kIncompatExtendedL2) != 0;
    l.l2_entry_bytes = l.extended_l2 ? 16 : 8;
    l.l2_entries = l.cluster_size / l.l2_entry_bytes;
    l.subclusters = l.extended_l2 ? kSubclustersPerCluster : 1;
    l.subcluster_size = l.cluster_size / l.subclusters;
    l.refcount_order = header.refcount_order;
    l.refcount_bits = uint64_t{1} << l.refcount_order;
    l.refcount_block_entries = l.cluster_size * 8 / l.refcount_bits;
    l.max_refcount = l.refcount_bits == 64 ? ~uint64_t{0} : (uint64_t{1} << l.refcount_bits) - 1;
    l.compressed_offset_bits = 62 - (l.cluster_bits - 8);
    l.version = static_cast<int>(header.version);
    return l;
  }

  uint64_t cluster_index(uint64_t offset) const { return offset >> cluster_bits; }
  uint64_t offset_in_cluster(uint64_t offset) const { return offset & (cluster_size - 1); }
  uint64_t clusters_for(uint64_t bytes) const { return (bytes + cluster_size - 1) >> cluster_bits; }
  uint64_t bytes_per_l2_table() const { return cluster_size * l2_entries; }
  uint64_t l1_entries_for(uint64_t size) const {
    return (size + bytes_per_l2_table() - 1) / bytes_per_l2_table();
  }
  // Every subcluster of a cluster, as a bitmap.
  uint32_t all_subclusters() const {
    return subclusters == 32 ? 0xffffffffu : (1u << subclusters) - 1;
  }
  // The subclusters that bytes [from, to) of a cluster touch (from < to <= cluster_size).
  uint32_t subclusters_touched(uint64_t from, uint64_t to) const {
    const uint64_t first = from / subcluster_size;
    const uint64_t count = (to - 1) / subcluster_size - first + 1;
    return static_cast<uint32_t>((count == 32 ? 0xffffffffull : (1ull << count) - 1) << first);
  }
};

// An L2 entry as stored: the descriptor and, with extended L2 entries, the subcluster bitmap
// ("Subcluster Allocation Bitmap": bits 0-31 allocated, 32-63 reads as zeros).
struct L2Slot {
  uint64_t entry = 0;
  uint64_t bitmap = 0;
  bool operator==(const L2Slot&) const = default;
};

enum class ClusterKind : uint8_t {
  kUnallocated,  // no host cluster: subclusters read as zeros (zero bits) or from the backing
  kAllocated,    // a host cluster: subclusters read from it (allocated bits), as zeros, or from
                 // the backing file
  kCompressed,
};

// One L2 entry, decoded. Without extended L2 entries a cluster is one subcluster: a normal
// cluster is allocated, the v3 zero flag is a zero bit (with or without a host cluster).
struct ClusterEntry {
  ClusterKind kind = ClusterKind::kUnallocated;
  uint64_t host_offset = 0;       // allocated: cluster; compressed: first byte
  uint64_t compressed_bytes = 0;  // compressed: bytes from host_offset to the end of its sectors
  uint32_t allocated = 0;         // subclusters read from the host cluster
  uint32_t zero = 0;              // subclusters that read as zeros
  bool copied = false;            // bit 63: refcount exactly one
  bool invalid = false;           // reserved bits, unaligned offset, inconsistent bitmap
};

inline ClusterEntry decode_l2_entry(const Layout& layout, L2Slot slot) {
  const uint64_t raw = slot.entry;
  ClusterEntry e;
  e.copied = (raw & kCopiedFlag) != 0;
  if (raw & kCompressedFlag) {
    // "Compressed Clusters Descriptor": offset in bits 0..x-1, additional sectors in x..61;
    // compressed clusters have no subclusters (their bitmap is reserved, zero).
    const uint64_t offset_mask = (uint64_t{1} << layout.compressed_offset_bits) - 1;
    const uint64_t sector_mask = (uint64_t{1} << (layout.cluster_bits - 8)) - 1;
    e.kind = ClusterKind::kCompressed;
    e.host_offset = raw & offset_mask;
    const uint64_t sectors = ((raw >> layout.compressed_offset_bits) & sector_mask) + 1;
    e.compressed_bytes = sectors * kCompressedSectorSize - (e.host_offset % kCompressedSectorSize);
    e.invalid = e.host_offset == 0 || e.host_offset >= kMaxHostOffset || slot.bitmap != 0;
    return e;
  }
  e.host_offset = raw & kL2OffsetMask;
  e.kind = e.host_offset != 0 ? ClusterKind::kAllocated : ClusterKind::kUnallocated;
  e.invalid = (raw & kL2ReservedMask) != 0 || (e.host_offset & (layout.cluster_size - 1)) != 0 ||
              (e.copied && e.host_offset == 0);
  if (layout.extended_l2) {
    // "== Extended L2 Entries ==": bit 0 is reserved; a subcluster is never both allocated and
    // zero, and only a host cluster has allocated subclusters.
    e.allocated = static_cast<uint32_t>(slot.bitmap);
    e.zero = static_cast<uint32_t>(slot.bitmap >> 32);
    e.invalid = e.invalid || (raw & kZeroFlag) != 0 || (e.allocated & e.zero) != 0 ||
                (e.host_offset == 0 && e.allocated != 0);
    return e;
  }
  // "Standard Cluster Descriptor" bit 0: reads as zeros (version 3 only).
  const bool zero = (raw & kZeroFlag) != 0;
  e.invalid = e.invalid || (zero && layout.version < 3);
  e.zero = zero ? 1 : 0;
  e.allocated = !zero && e.host_offset != 0 ? 1 : 0;
  return e;
}

// A host cluster with the given subcluster states (standard entries: allocated is 1, or zero
// is 1 for preallocated zeros).
inline L2Slot encode_allocated(const Layout& layout, uint64_t host, bool copied, uint32_t allocated,
                               uint32_t zero) {
  const uint64_t entry = host | (copied ? kCopiedFlag : 0);
  if (layout.extended_l2) return {entry, allocated | (uint64_t{zero} << 32)};
  return {entry | (zero != 0 ? kZeroFlag : 0), 0};
}

// No host cluster; `zero` subclusters read as zeros, the others from the backing file.
inline L2Slot encode_unallocated(const Layout& layout, uint32_t zero) {
  if (layout.extended_l2) return {0, uint64_t{zero} << 32};
  return {zero != 0 ? kZeroFlag : 0, 0};
}

// Encodes a compressed cluster descriptor for data of `bytes` bytes at host `offset`.
inline L2Slot encode_compressed(const Layout& layout, uint64_t offset, uint64_t bytes) {
  const uint64_t first_sector = offset / kCompressedSectorSize;
  const uint64_t last_sector = (offset + bytes - 1) / kCompressedSectorSize;
  return {
      kCompressedFlag | offset | ((last_sector - first_sector) << layout.compressed_offset_bits),
      0};
}

// "== Host cluster management ==": entry `index` of a refcount block of 2^order-bit entries.
// Sub-byte entries are packed least significant bit first; wider ones are big-endian.
inline uint64_t get_refcount_entry(const uint8_t* block, uint64_t index, uint32_t order) {
  const uint64_t bits = uint64_t{1} << order;
  if (bits < 8) {
    const uint64_t bit = index * bits;
    return (block[bit / 8] >> (bit % 8)) & ((1u << bits) - 1);
  }
  const uint8_t* p = block + index * (bits / 8);
  uint64_t value = 0;
  for (uint64_t i = 0; i < bits / 8; ++i) value = (value << 8) | p[i];
  return value;
}

inline void set_refcount_entry(uint8_t* block, uint64_t index, uint32_t order, uint64_t value) {
  const uint64_t bits = uint64_t{1} << order;
  if (bits < 8) {
    const uint64_t bit = index * bits;
    const unsigned mask = ((1u << bits) - 1) << (bit % 8);
    block[bit / 8] = static_cast<uint8_t>((block[bit / 8] & ~mask) | ((value << (bit % 8)) & mask));
    return;
  }
  uint8_t* p = block + index * (bits / 8);
  for (uint64_t i = bits / 8; i-- > 0;) {
    p[i] = static_cast<uint8_t>(value);
    value >>= 8;
  }
}

}  // namespace cella::block::qcow2
