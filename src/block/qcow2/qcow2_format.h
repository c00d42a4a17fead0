// qcow2 on-disk layout: field offsets, bit masks and the implementation limits Cella applies.
// The specification is QEMU's docs/interop/qcow2.txt; section names are quoted as "== X ==".
#pragma once

#include <cstdint>

namespace cella::block::qcow2 {

// "== Header ==": magic "QFI\xfb", big-endian like every qcow2 number ("== General ==").
inline constexpr uint32_t kMagic = 0x514649fb;

// "== Header ==": byte offsets of the header fields.
inline constexpr uint32_t kOffMagic = 0;
inline constexpr uint32_t kOffVersion = 4;
inline constexpr uint32_t kOffBackingFileOffset = 8;
inline constexpr uint32_t kOffBackingFileSize = 16;
inline constexpr uint32_t kOffClusterBits = 20;
inline constexpr uint32_t kOffSize = 24;
inline constexpr uint32_t kOffCryptMethod = 32;
inline constexpr uint32_t kOffL1Size = 36;
inline constexpr uint32_t kOffL1TableOffset = 40;
inline constexpr uint32_t kOffRefcountTableOffset = 48;
inline constexpr uint32_t kOffRefcountTableClusters = 56;
inline constexpr uint32_t kOffNbSnapshots = 60;
inline constexpr uint32_t kOffSnapshotsOffset = 64;
inline constexpr uint32_t kOffIncompatibleFeatures = 72;  // version 3
inline constexpr uint32_t kOffCompatibleFeatures = 80;
inline constexpr uint32_t kOffAutoclearFeatures = 88;
inline constexpr uint32_t kOffRefcountOrder = 96;
inline constexpr uint32_t kOffHeaderLength = 100;
inline constexpr uint32_t kOffCompressionType = 104;  // "=== Additional fields ==="

// "== Header ==": version 2 headers are exactly 72 bytes, version 3 at least 104; Cella writes
// 112 (104 + the compression_type byte, padded to a multiple of 8, "=== Header padding ===").
inline constexpr uint32_t kV2HeaderLength = 72;
inline constexpr uint32_t kV3MinHeaderLength = 104;
inline constexpr uint32_t kV3HeaderLength = 112;

// "== Header ==" incompatible_features.
inline constexpr uint64_t kIncompatDirty = 1ull << 0;
inline constexpr uint64_t kIncompatCorrupt = 1ull << 1;
inline constexpr uint64_t kIncompatExternalData = 1ull << 2;
inline constexpr uint64_t kIncompatCompressionType = 1ull << 3;
inline constexpr uint64_t kIncompatExtendedL2 = 1ull << 4;
// compatible_features.
inline constexpr uint64_t kCompatLazyRefcounts = 1ull << 0;
// autoclear_features.
inline constexpr uint64_t kAutoclearBitmaps = 1ull << 0;
inline constexpr uint64_t kAutoclearRawExternalData = 1ull << 1;

// "=== Additional fields ===" compression_type.
enum class CompressionType : uint8_t { kZlib = 0, kZstd = 1 };

// "=== Header extensions ===": extension types.
inline constexpr uint32_t kExtEnd = 0x00000000;
inline constexpr uint32_t kExtBackingFormat = 0xe2792aca;
inline constexpr uint32_t kExtFeatureTable = 0x6803f857;
inline constexpr uint32_t kExtBitmaps = 0x23852875;
inline constexpr uint32_t kExtEncryption = 0x0537be77;
inline constexpr uint32_t kExtDataFile = 0x44415441;

// "== Feature name table ==": 48-byte entries (type, bit, 46-byte name).
inline constexpr uint32_t kFeatureEntrySize = 48;
inline constexpr uint32_t kFeatureNameLength = 46;
enum class FeatureType : uint8_t { kIncompatible = 0, kCompatible = 1, kAutoclear = 2 };

// "== Cluster mapping ==": L1 entries.
inline constexpr uint64_t kL1OffsetMask = 0x00fffffffffffe00ull;    // bits 9-55
inline constexpr uint64_t kL1ReservedMask = 0x7f000000000001ffull;  // bits 0-8, 56-62
// L2 entries (and bit 63 of L1 entries): refcount exactly one.
inline constexpr uint64_t kCopiedFlag = 1ull << 63;
inline constexpr uint64_t kCompressedFlag = 1ull << 62;
// "Standard Cluster Descriptor": bit 0 reads as zeros (version 3), bits 9-55 host offset.
inline constexpr uint64_t kZeroFlag = 1ull << 0;
inline constexpr uint64_t kL2OffsetMask = 0x00fffffffffffe00ull;
inline constexpr uint64_t kL2ReservedMask = 0x3f000000000001feull;  // bits 1-8, 56-61

// "== Extended L2 Entries ==": 32 subclusters per cluster, clusters of at least 16 KiB.
inline constexpr uint32_t kSubclustersPerCluster = 32;
inline constexpr uint32_t kMinExtendedL2ClusterBits = 14;

// "== Host cluster management ==": refcount table entries, bits 9-63 the block offset.
inline constexpr uint64_t kRefcountTableReservedMask = 0x1ffull;

// "Compressed Clusters Descriptor": sizes count 512-byte sectors.
inline constexpr uint64_t kCompressedSectorSize = 512;

// "== Snapshots ==": fixed part of a snapshot table entry; extra data fields.
inline constexpr uint32_t kSnapshotFixedSize = 40;

// Implementation limits (policy, not format): qemu's, so that every image qemu opens opens here,
// and no header field can make Cella allocate unbounded memory ("== Header ==" notes).
inline constexpr uint32_t kMinClusterBits = 9;
inline constexpr uint32_t kMaxClusterBits = 21;  // 2 MiB clusters
inline constexpr uint64_t kMaxL1Bytes = 32ull << 20;
inline constexpr uint64_t kMaxRefcountTableBytes = 8ull << 20;
inline constexpr uint32_t kMaxBackingFileNameLength = 1023;
inline constexpr uint32_t kMaxSnapshots = 65536;
inline constexpr uint32_t kMaxSnapshotExtraData = 1024;
inline constexpr uint64_t kMaxSnapshotTableBytes = 64ull << 20;
inline constexpr uint32_t kMaxRefcountOrder = 6;
// "== Cluster mapping ==": host offsets live in bits 9-55.
inline constexpr uint64_t kMaxHostOffset = 1ull << 56;

}  // namespace cella::block::qcow2
