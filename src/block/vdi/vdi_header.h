// The header of a VirtualBox disk image (VDI). There is no published specification; the
// layout below is the well-known version 1.1 header that VirtualBox and qemu read and write:
// a pre-header (a text line, the signature 0xbeda107f and the version), then the 1.1 header
// (image type, block map and data offsets, geometry, disk and block sizes, block counts and
// the four UUIDs), all little-endian. The block map follows at offBlocks and the data blocks at
// offData, each block being cbBlockExtra bytes of per-block data followed by cbBlock bytes.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "base/result.h"

namespace cella::block::vdi {

inline constexpr uint32_t kSignature = 0xbeda107f;
inline constexpr uint32_t kVersion1_1 = 0x00010001;  // major 1 (high half), minor 1
inline constexpr size_t kPreHeaderSize = 0x48;       // 64 bytes of text, signature, version
inline constexpr uint32_t kHeaderSize = 0x190;       // 1.1 header with the LCHS geometry
inline constexpr uint32_t kMinHeaderSize = 0x180;    // 1.1 header without it (qemu writes this)
inline constexpr size_t kHeaderEnd = kPreHeaderSize + kHeaderSize;  // what Cella reads: 0x1d8
inline constexpr char kFileInfo[] = "<<< Oracle VM VirtualBox Disk Image >>>\n";

// Block map entries: the index of the block's data slot, or one of these.
inline constexpr uint32_t kBlockFree = 0xffffffff;  // not allocated: zeros, or the parent's data
inline constexpr uint32_t kBlockZero = 0xfffffffe;  // reads as zeros, even over a parent
inline bool is_allocated(uint32_t entry) {
  return entry < kBlockZero;
}

inline constexpr uint32_t kDefaultBlockSize = 1 << 20;
// Bounds on what Cella accepts: VirtualBox uses 1 MiB blocks.
inline constexpr uint32_t kMinBlockSize = 512;
inline constexpr uint32_t kMaxBlockSize = 64 << 20;
inline constexpr uint32_t kMaxBlocks = 1u << 26;  // a 256 MiB block map (64 TiB of 1 MiB blocks)

enum class ImageType : uint32_t {
  kDynamic = 1,  // "normal": blocks allocated on first write
  kStatic = 2,   // "fixed": every block allocated at creation
  kUndo = 3,
  kDiff = 4,  // differencing: unallocated blocks read the parent's data
};

// RTUUID as stored on disk (16 bytes, the first three fields little-endian as in Microsoft's
// GUID layout).
using Uuid = std::array<uint8_t, 16>;
Uuid random_uuid();
std::string format_uuid(const Uuid& uuid);
bool is_null(const Uuid& uuid);

struct Geometry {
  uint32_t cylinders = 0;
  uint32_t heads = 0;
  uint32_t sectors = 0;
  uint32_t sector_size = 512;
};

struct Header {
  std::string file_info;  // the pre-header's text line
  uint32_t version = kVersion1_1;
  uint32_t header_size = kHeaderSize;
  ImageType type = ImageType::kDynamic;
  uint32_t flags = 0;
  std::string comment;
  uint32_t blocks_offset = 0;  // offBlocks: the block map
  uint32_t data_offset = 0;    // offData: data block 0
  Geometry legacy_geometry;
  uint64_t disk_size = 0;  // cbDisk
  uint32_t block_size = kDefaultBlockSize;
  uint32_t block_extra = 0;  // cbBlockExtra
  uint32_t blocks = 0;       // cBlocks
  uint32_t blocks_allocated = 0;
  Uuid create_uuid{};
  Uuid modify_uuid{};
  Uuid linkage_uuid{};        // diff: the parent's create UUID
  Uuid parent_modify_uuid{};  // diff: the parent's modify UUID when the child was made
  Geometry lchs_geometry;     // header_size >= kHeaderSize

  uint64_t slot_size() const { return uint64_t{block_size} + block_extra; }
  // Byte offset of data slot `index` (its block data, after the per-block extra data).
  uint64_t slot_offset(uint32_t index) const {
    return data_offset + index * slot_size() + block_extra;
  }
};

// Decodes and validates the pre-header and header (the first kHeaderEnd bytes; shorter input
// is zero-filled by the caller). The block map's and data's places are checked against
// file_size.
Result<Header> decode_header(std::span<const uint8_t> bytes, uint64_t file_size);
// Encodes the first kHeaderEnd bytes.
void encode_header(const Header& header, std::span<uint8_t> bytes);

}  // namespace cella::block::vdi
