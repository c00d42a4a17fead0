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
  uint64_t l2_entries = 8192;  // cluster_size / 8
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
    l.l2_entries = l.cluster_size / 8;
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
  uint64_t l1_index(uint64_t guest_offset) const { return guest_offset / bytes_per_l2_table(); }
  uint64_t l2_index(uint64_t guest_offset) const {
    return cluster_index(guest_offset) & (l2_entries - 1);
  }
  uint64_t l1_entries_for(uint64_t size) const {
    return (size + bytes_per_l2_table() - 1) / bytes_per_l2_table();
  }
};

// One L2 entry, decoded.
enum class ClusterKind : uint8_t {
  kUnallocated,    // reads from the backing file, or zeros without one
  kZero,           // v3 zero flag without a host cluster
  kZeroAllocated,  // v3 zero flag with a preallocated host cluster
  kNormal,
  kCompressed,
};

struct ClusterEntry {
  ClusterKind kind = ClusterKind::kUnallocated;
  uint64_t host_offset = 0;       // normal/zero-allocated: cluster; compressed: first byte
  uint64_t compressed_bytes = 0;  // compressed: bytes from host_offset to the end of its sectors
  bool copied = false;            // bit 63: refcount exactly one
  bool invalid = false;           // reserved bits set, unaligned offset, zero flag in v2
};

inline ClusterEntry decode_l2_entry(const Layout& layout, uint64_t raw) {
  ClusterEntry e;
  e.copied = (raw & kCopiedFlag) != 0;
  if (raw & kCompressedFlag) {
    // "Compressed Clusters Descriptor": offset in bits 0..x-1, additional sectors in x..61.
    const uint64_t offset_mask = (uint64_t{1} << layout.compressed_offset_bits) - 1;
    const uint64_t sector_mask = (uint64_t{1} << (layout.cluster_bits - 8)) - 1;
    e.kind = ClusterKind::kCompressed;
    e.host_offset = raw & offset_mask;
    const uint64_t sectors = ((raw >> layout.compressed_offset_bits) & sector_mask) + 1;
    e.compressed_bytes = sectors * kCompressedSectorSize - (e.host_offset % kCompressedSectorSize);
    e.invalid = e.host_offset == 0 || e.host_offset >= kMaxHostOffset;
    return e;
  }
  e.host_offset = raw & kL2OffsetMask;
  const bool zero = (raw & kZeroFlag) != 0;
  e.invalid = (raw & kL2ReservedMask) != 0 || (e.host_offset & (layout.cluster_size - 1)) != 0 ||
              (zero && layout.version < 3) || (e.copied && e.host_offset == 0);
  if (zero) {
    e.kind = e.host_offset != 0 ? ClusterKind::kZeroAllocated : ClusterKind::kZero;
  } else {
    e.kind = e.host_offset != 0 ? ClusterKind::kNormal : ClusterKind::kUnallocated;
  }
  return e;
}

// Encodes a compressed cluster descriptor for data of `bytes` bytes at host `offset`.
inline uint64_t encode_compressed_entry(const Layout& layout, uint64_t offset, uint64_t bytes) {
  const uint64_t first_sector = offset / kCompressedSectorSize;
  const uint64_t last_sector = (offset + bytes - 1) / kCompressedSectorSize;
  return kCompressedFlag | offset | ((last_sector - first_sector) << layout.compressed_offset_bits);
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
