#include "block/vdi/vdi_header.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "base/bits.h"

namespace cella::block::vdi {

namespace {

// Byte offsets of the pre-header and 1.1 header fields.
constexpr size_t kFileInfoAt = 0x00;  // char[64]
constexpr size_t kFileInfoSize = 64;
constexpr size_t kSignatureAt = 0x40;
constexpr size_t kVersionAt = 0x44;
constexpr size_t kHeaderSizeAt = 0x48;
constexpr size_t kTypeAt = 0x4c;
constexpr size_t kFlagsAt = 0x50;
constexpr size_t kCommentAt = 0x54;  // char[256]
constexpr size_t kCommentSize = 256;
constexpr size_t kBlocksOffsetAt = 0x154;
constexpr size_t kDataOffsetAt = 0x158;
constexpr size_t kLegacyGeometryAt = 0x15c;  // cylinders, heads, sectors, sector size
// 0x16c: unused (formerly the BIOS translation mode)
constexpr size_t kDiskSizeAt = 0x170;
constexpr size_t kBlockSizeAt = 0x178;
constexpr size_t kBlockExtraAt = 0x17c;
constexpr size_t kBlocksAt = 0x180;
constexpr size_t kBlocksAllocatedAt = 0x184;
constexpr size_t kCreateUuidAt = 0x188;
constexpr size_t kModifyUuidAt = 0x198;
constexpr size_t kLinkageUuidAt = 0x1a8;
constexpr size_t kParentModifyUuidAt = 0x1b8;
constexpr size_t kLchsGeometryAt = 0x1c8;  // present when the header is 0x190 bytes

Geometry load_geometry(const uint8_t* p) {
  return {load_le<uint32_t>(p), load_le<uint32_t>(p + 4), load_le<uint32_t>(p + 8),
          load_le<uint32_t>(p + 12)};
}

void store_geometry(uint8_t* p, const Geometry& g) {
  store_le<uint32_t>(p, g.cylinders);
  store_le<uint32_t>(p + 4, g.heads);
  store_le<uint32_t>(p + 8, g.sectors);
  store_le<uint32_t>(p + 12, g.sector_size);
}

std::string load_text(const uint8_t* p, size_t size) {
  const auto* text = reinterpret_cast<const char*>(p);
  return std::string(text, std::find(text, text + size, '\0'));
}

Uuid load_uuid(const uint8_t* p) {
  Uuid uuid;
  std::memcpy(uuid.data(), p, uuid.size());
  return uuid;
}

}  // namespace

Uuid random_uuid() {
  static std::mt19937_64 generator{std::random_device{}()};
  Uuid uuid;
  for (size_t i = 0; i < uuid.size(); i += 8) {
    const uint64_t value = generator();
    std::memcpy(uuid.data() + i, &value, 8);
  }
  uuid[7] = static_cast<uint8_t>((uuid[7] & 0x0f) | 0x40);  // version 4 (time_hi, little-endian)
  uuid[8] = static_cast<uint8_t>((uuid[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return uuid;
}

std::string format_uuid(const Uuid& u) {
  return fmt::format("{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
                     load_le<uint32_t>(&u[0]), load_le<uint16_t>(&u[4]), load_le<uint16_t>(&u[6]),
                     u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

bool is_null(const Uuid& uuid) {
  return std::all_of(uuid.begin(), uuid.end(), [](uint8_t b) { return b == 0; });
}

Result<Header> decode_header(std::span<const uint8_t> bytes, uint64_t file_size) {
  if (bytes.size() < kHeaderEnd) return make_error("truncated VDI header");
  const uint8_t* p = bytes.data();
  if (load_le<uint32_t>(p + kSignatureAt) != kSignature) {
    return make_error("not a VDI image (bad signature)");
  }
  Header h;
  h.file_info = load_text(p + kFileInfoAt, kFileInfoSize);
  h.version = load_le<uint32_t>(p + kVersionAt);
  if (h.version >> 16 != 1) {
    return make_error("unsupported VDI version {}.{}", h.version >> 16, h.version & 0xffff);
  }
  h.header_size = load_le<uint32_t>(p + kHeaderSizeAt);
  h.type = static_cast<ImageType>(load_le<uint32_t>(p + kTypeAt));
  h.flags = load_le<uint32_t>(p + kFlagsAt);
  h.comment = load_text(p + kCommentAt, kCommentSize);
  h.blocks_offset = load_le<uint32_t>(p + kBlocksOffsetAt);
  h.data_offset = load_le<uint32_t>(p + kDataOffsetAt);
  h.legacy_geometry = load_geometry(p + kLegacyGeometryAt);
  h.disk_size = load_le<uint64_t>(p + kDiskSizeAt);
  h.block_size = load_le<uint32_t>(p + kBlockSizeAt);
  h.block_extra = load_le<uint32_t>(p + kBlockExtraAt);
  h.blocks = load_le<uint32_t>(p + kBlocksAt);
  h.blocks_allocated = load_le<uint32_t>(p + kBlocksAllocatedAt);
  h.create_uuid = load_uuid(p + kCreateUuidAt);
  h.modify_uuid = load_uuid(p + kModifyUuidAt);
  h.linkage_uuid = load_uuid(p + kLinkageUuidAt);
  h.parent_modify_uuid = load_uuid(p + kParentModifyUuidAt);
  if (h.header_size >= kHeaderSize) h.lchs_geometry = load_geometry(p + kLchsGeometryAt);

  switch (h.type) {
    case ImageType::kDynamic:
    case ImageType::kStatic:
    case ImageType::kDiff:
      break;
    case ImageType::kUndo:
      return make_error("VDI undo images are not supported");
    default:
      return make_error("unknown VDI image type {}", static_cast<uint32_t>(h.type));
  }
  if (h.header_size < kMinHeaderSize || kPreHeaderSize + h.header_size > h.blocks_offset) {
    return make_error("invalid VDI header size {} (block map at {})", h.header_size,
                      h.blocks_offset);
  }
  if (h.legacy_geometry.sector_size != 512 && h.legacy_geometry.sector_size != 0) {
    return make_error("unsupported sector size {}", h.legacy_geometry.sector_size);
  }
  if (!is_power_of_two(h.block_size) || h.block_size < kMinBlockSize ||
      h.block_size > kMaxBlockSize) {
    return make_error("invalid block size {} (a power of two from {} to {} expected)", h.block_size,
                      kMinBlockSize, kMaxBlockSize);
  }
  if (h.block_extra % 512 != 0 || h.block_extra > kMaxBlockSize) {
    return make_error("invalid per-block extra data size {}", h.block_extra);
  }
  if (h.blocks > kMaxBlocks) {
    return make_error("{} blocks is more than the {} supported", h.blocks, kMaxBlocks);
  }
  if (h.disk_size > uint64_t{h.blocks} * h.block_size) {
    return make_error("the disk size {} is larger than its {} blocks of {} bytes", h.disk_size,
                      h.blocks, h.block_size);
  }
  if (h.blocks_allocated > h.blocks) {
    return make_error("{} blocks allocated out of {}", h.blocks_allocated, h.blocks);
  }
  if (h.blocks_offset % 512 != 0 || h.data_offset % 512 != 0) {
    return make_error("the block map ({}) and data ({}) offsets must be sector-aligned",
                      h.blocks_offset, h.data_offset);
  }
  if (uint64_t{h.blocks_offset} + uint64_t{h.blocks} * 4 > h.data_offset) {
    return make_error("the block map ({} entries at {}) overlaps the data at {}", h.blocks,
                      h.blocks_offset, h.data_offset);
  }
  if (h.data_offset > file_size) {
    return make_error("the data offset {} is beyond the end of the file ({} bytes)", h.data_offset,
                      file_size);
  }
  if (h.type == ImageType::kDiff && is_null(h.linkage_uuid)) {
    return make_error("a differencing image without a parent UUID");
  }
  return h;
}

void encode_header(const Header& h, std::span<uint8_t> bytes) {
  uint8_t* p = bytes.data();
  std::memset(p, 0, kHeaderEnd);
  std::memcpy(p + kFileInfoAt, h.file_info.data(), std::min(h.file_info.size(), kFileInfoSize - 1));
  store_le<uint32_t>(p + kSignatureAt, kSignature);
  store_le<uint32_t>(p + kVersionAt, h.version);
  store_le<uint32_t>(p + kHeaderSizeAt, h.header_size);
  store_le<uint32_t>(p + kTypeAt, static_cast<uint32_t>(h.type));
  store_le<uint32_t>(p + kFlagsAt, h.flags);
  std::memcpy(p + kCommentAt, h.comment.data(), std::min(h.comment.size(), kCommentSize - 1));
  store_le<uint32_t>(p + kBlocksOffsetAt, h.blocks_offset);
  store_le<uint32_t>(p + kDataOffsetAt, h.data_offset);
  store_geometry(p + kLegacyGeometryAt, h.legacy_geometry);
  store_le<uint64_t>(p + kDiskSizeAt, h.disk_size);
  store_le<uint32_t>(p + kBlockSizeAt, h.block_size);
  store_le<uint32_t>(p + kBlockExtraAt, h.block_extra);
  store_le<uint32_t>(p + kBlocksAt, h.blocks);
  store_le<uint32_t>(p + kBlocksAllocatedAt, h.blocks_allocated);
  std::memcpy(p + kCreateUuidAt, h.create_uuid.data(), 16);
  std::memcpy(p + kModifyUuidAt, h.modify_uuid.data(), 16);
  std::memcpy(p + kLinkageUuidAt, h.linkage_uuid.data(), 16);
  std::memcpy(p + kParentModifyUuidAt, h.parent_modify_uuid.data(), 16);
  if (h.header_size >= kHeaderSize) store_geometry(p + kLchsGeometryAt, h.lchs_geometry);
}

}  // namespace cella::block::vdi
