// Virtio 1.2 5.2 (block device): feature bits, the configuration layout, request types and
// status values.
#pragma once

#include <cstdint>

namespace cella::virtio::blk_spec {

// 5.2.3: feature bits.
inline constexpr unsigned kFeatureSizeMax = 1;       // VIRTIO_BLK_F_SIZE_MAX
inline constexpr unsigned kFeatureSegMax = 2;        // VIRTIO_BLK_F_SEG_MAX
inline constexpr unsigned kFeatureReadOnly = 5;      // VIRTIO_BLK_F_RO
inline constexpr unsigned kFeatureBlockSize = 6;     // VIRTIO_BLK_F_BLK_SIZE
inline constexpr unsigned kFeatureFlush = 9;         // VIRTIO_BLK_F_FLUSH
inline constexpr unsigned kFeatureDiscard = 13;      // VIRTIO_BLK_F_DISCARD
inline constexpr unsigned kFeatureWriteZeroes = 14;  // VIRTIO_BLK_F_WRITE_ZEROES

// 5.2.4: struct virtio_blk_config (offsets of the fields Cella fills).
namespace config {
inline constexpr uint64_t kCapacity = 0;                 // le64, in 512-byte sectors
inline constexpr uint64_t kSizeMax = 8;                  // le32
inline constexpr uint64_t kSegMax = 12;                  // le32
inline constexpr uint64_t kBlockSize = 20;               // le32
inline constexpr uint64_t kMaxDiscardSectors = 36;       // le32
inline constexpr uint64_t kMaxDiscardSegments = 40;      // le32
inline constexpr uint64_t kDiscardSectorAlignment = 44;  // le32
inline constexpr uint64_t kMaxWriteZeroesSectors = 48;   // le32
inline constexpr uint64_t kMaxWriteZeroesSegments = 52;  // le32
inline constexpr uint64_t kWriteZeroesMayUnmap = 56;     // u8
inline constexpr size_t kSize = 60;
}  // namespace config

// 5.2.6: struct virtio_blk_req.
inline constexpr uint64_t kSectorSize = 512;
inline constexpr uint64_t kHeaderSize = 16;  // le32 type, le32 reserved, le64 sector
inline constexpr uint32_t kIdBytes = 20;     // VIRTIO_BLK_ID_BYTES

enum class RequestType : uint32_t {
  kIn = 0,
  kOut = 1,
  kFlush = 4,
  kGetId = 8,
  kGetLifetime = 10,
  kDiscard = 11,
  kWriteZeroes = 13,
  kSecureErase = 14,
};

enum class Status : uint8_t {
  kOk = 0,
  kIoError = 1,
  kUnsupported = 2,
};

// 5.2.6: struct virtio_blk_discard_write_zeroes, the payload of DISCARD and WRITE_ZEROES.
inline constexpr uint64_t kRangeSize = 16;  // le64 sector, le32 num_sectors, le32 flags
inline constexpr uint32_t kRangeFlagUnmap = 1u << 0;

}  // namespace cella::virtio::blk_spec
