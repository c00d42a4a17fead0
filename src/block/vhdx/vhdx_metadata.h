// The VHDX metadata region ([MS-VHDX] 2.6): a table of items, and the items Cella knows
// (2.6.2): file parameters, virtual disk size and id, sector sizes, and the parent locator.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "block/guid.h"

namespace cella::block::vhdx {

inline constexpr size_t kMetadataTableSize = 64 * 1024;          // [MS-VHDX] 2.6.1
inline constexpr uint32_t kMaxMetadataEntries = 2047;            // [MS-VHDX] 2.6.1.1
inline constexpr uint32_t kMaxMetadataItemLength = 1024 * 1024;  // [MS-VHDX] 2.6.1.2 Length
inline constexpr uint64_t kMaxVirtualDiskSize = 64ull << 40;     // [MS-VHDX] 2.6.2.2: 64 TB
inline constexpr uint32_t kMinBlockSize = 1 << 20;               // [MS-VHDX] 2.6.2.1
inline constexpr uint32_t kMaxBlockSize = 256 << 20;

// [MS-VHDX] 2.6.2 item GUIDs.
inline constexpr Guid kFileParametersItem{
    0xCAA16737, 0xFA36, 0x4D43, {0xB3, 0xB6, 0x33, 0xF0, 0xAA, 0x44, 0xE7, 0x6B}};
inline constexpr Guid kVirtualDiskSizeItem{
    0x2FA54224, 0xCD1B, 0x4876, {0xB2, 0x11, 0x5D, 0xBE, 0xD8, 0x3B, 0xF4, 0xB8}};
inline constexpr Guid kVirtualDiskIdItem{
    0xBECA12AB, 0xB2E6, 0x4523, {0x93, 0xEF, 0xC3, 0x09, 0xE0, 0x00, 0xC7, 0x46}};
inline constexpr Guid kLogicalSectorSizeItem{
    0x8141BF1D, 0xA96F, 0x4709, {0xBA, 0x47, 0xF2, 0x33, 0xA8, 0xFA, 0xAB, 0x5F}};
inline constexpr Guid kPhysicalSectorSizeItem{
    0xCDA348C7, 0x445D, 0x4471, {0x9C, 0xC9, 0xE9, 0x88, 0x52, 0x51, 0xC5, 0x56}};
inline constexpr Guid kParentLocatorItem{
    0xA8D35F2D, 0xB30B, 0x454D, {0xAB, 0xF7, 0xD3, 0xD8, 0x48, 0x34, 0xAB, 0x0C}};
// [MS-VHDX] 2.6.2.6.1: the locator type of a VHDX parent.
inline constexpr Guid kVhdxParentLocatorType{
    0xB04AEFB7, 0xD19E, 0x4A81, {0xB7, 0x89, 0x25, 0xB8, 0xE9, 0x44, 0x59, 0x13}};

// [MS-VHDX] 2.6.1.2 Metadata Table Entry.
struct MetadataEntry {
  Guid item;
  uint32_t offset = 0;  // from the start of the metadata region, at least 64 KiB
  uint32_t length = 0;
  bool is_user = false;
  bool is_virtual_disk = false;
  bool is_required = false;
};

Result<std::vector<MetadataEntry>> parse_metadata_table(std::span<const uint8_t> table);
std::vector<uint8_t> serialize_metadata_table(const std::vector<MetadataEntry>& entries);

// The items, decoded.
struct Metadata {
  uint32_t block_size = 0;
  bool leave_blocks_allocated = false;
  bool has_parent = false;
  uint64_t virtual_disk_size = 0;
  Guid virtual_disk_id;  // the SCSI page 83 identifier
  uint32_t logical_sector_size = 512;
  uint32_t physical_sector_size = 4096;
  std::vector<std::pair<std::string, std::string>> parent_locator;  // key, value
};

// Reads the items of `entries` from a metadata region of `region_length` bytes (`read` returns
// `length` bytes at `offset` in the region, after decode_metadata checked the range), checks
// every value against [MS-VHDX] 2.6.2, and refuses unknown required items.
using ItemReader = std::function<Result<std::vector<uint8_t>>(uint64_t offset, uint32_t length)>;
Result<Metadata> decode_metadata(const std::vector<MetadataEntry>& entries, uint64_t region_length,
                                 const ItemReader& read);

// Item payloads, for new images and updates.
std::vector<uint8_t> encode_file_parameters(const Metadata& metadata);
std::vector<uint8_t> encode_u64(uint64_t value);
std::vector<uint8_t> encode_u32(uint32_t value);
std::vector<uint8_t> encode_guid(const Guid& guid);
Result<std::vector<uint8_t>> encode_parent_locator(
    const std::vector<std::pair<std::string, std::string>>& entries);

std::optional<std::string> locator_value(const Metadata& metadata, std::string_view key);

}  // namespace cella::block::vhdx
