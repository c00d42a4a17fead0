// The header of a hosted sparse extent (VMware Virtual Disk Format 1.1, "Hosted Sparse Extent
// Header"; the zeroed-grain flag is from Virtual Disk Format 5.0): 512 little-endian bytes at
// the start of every SPARSE extent file, monolithicSparse and streamOptimized included.
#pragma once

#include <cstdint>
#include <span>

#include "base/result.h"

namespace cella::block::vmdk {

inline constexpr uint32_t kSparseMagic = 0x564d444b;  // "KDMV" on disk: 'V' 'M' 'D' 'K' LE
inline constexpr uint32_t kCowdMagic = 0x44574f43;    // "COWD": ESX Server sparse extents
inline constexpr size_t kSparseHeaderSize = 512;
// "Stream-Optimized Compressed Sparse Extents": gdOffset when the grain directory follows the
// grains and its real offset is in the footer.
inline constexpr uint64_t kGdAtEnd = ~uint64_t{0};
inline constexpr uint16_t kCompressionNone = 0;
inline constexpr uint16_t kCompressionDeflate = 1;
// "Grain Directories and Grain Tables": VMware always uses 512 entries per grain table.
inline constexpr uint32_t kDefaultGtesPerGt = 512;
inline constexpr uint64_t kDefaultGrainSectors = 128;  // 64 KiB
// Bounds on what Cella accepts: qemu's and VMware's images are far inside them.
inline constexpr uint64_t kMaxGrainSectors = uint64_t{1} << 15;  // 16 MiB grains
inline constexpr uint64_t kMaxGdEntries = uint64_t{1} << 23;     // a 32 MiB grain directory
inline constexpr uint64_t kMaxDescriptorSectors = (1 << 20) / 512;

// "Hosted Sparse Extent Header", flags.
enum SparseFlags : uint32_t {
  kFlagValidNewlineTest = 1u << 0,  // the four end-of-line characters below are meaningful
  kFlagRedundantGrainTable = 1u << 1,
  kFlagZeroedGrainGte = 1u << 2,  // 5.0: GTE value 1 is a zero-filled grain (version >= 2)
  kFlagCompressedGrains = 1u << 16,
  kFlagMarkers = 1u << 17,
};

struct SparseHeader {
  uint32_t version = 1;
  uint32_t flags = kFlagValidNewlineTest | kFlagRedundantGrainTable;
  uint64_t capacity = 0;  // all offsets and sizes below are in 512-byte sectors
  uint64_t grain_size = kDefaultGrainSectors;
  uint64_t descriptor_offset = 0;
  uint64_t descriptor_size = 0;
  uint32_t num_gtes_per_gt = kDefaultGtesPerGt;
  uint64_t rgd_offset = 0;
  uint64_t gd_offset = 0;
  uint64_t overhead = 0;
  bool unclean_shutdown = false;
  uint16_t compress_algorithm = kCompressionNone;

  bool redundant() const { return (flags & kFlagRedundantGrainTable) != 0; }
  bool zeroed_grain() const { return (flags & kFlagZeroedGrainGte) != 0; }
  bool compressed() const { return (flags & kFlagCompressedGrains) != 0; }
  bool markers() const { return (flags & kFlagMarkers) != 0; }
  uint64_t grain_bytes() const { return grain_size * 512; }
  uint64_t sectors_per_gt() const { return grain_size * num_gtes_per_gt; }
  // Number of grain directory entries covering the capacity.
  uint64_t gd_entries() const { return (capacity + sectors_per_gt() - 1) / sectors_per_gt(); }
  // Size in bytes of one grain table, and of the grain directory.
  uint64_t gt_bytes() const { return uint64_t{num_gtes_per_gt} * 4; }
  uint64_t gd_bytes() const { return gd_entries() * 4; }
};

// Decodes and validates a header: the magic, the version, the end-of-line test, and the bounds
// of every field. The grain directory's position is checked against the file by the caller.
Result<SparseHeader> decode_sparse_header(std::span<const uint8_t> sector);
void encode_sparse_header(const SparseHeader& header, std::span<uint8_t> sector);

}  // namespace cella::block::vmdk
