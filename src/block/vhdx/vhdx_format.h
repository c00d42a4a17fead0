// VHDX on-disk structures of the header section, from Microsoft's [MS-VHDX] "Virtual Hard Disk
// v2 (VHDX) File Format", cited as [MS-VHDX] with its section numbers. Every integer is
// little-endian; every checksum is CRC-32C over the structure with its checksum field zeroed.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "block/guid.h"

namespace cella::block::vhdx {

inline constexpr uint64_t kKiB = 1024, kMiB = 1024 * 1024;
// [MS-VHDX] 2.2: the header section is 1 MiB of 64 KiB structures.
inline constexpr uint64_t kFileIdentifierOffset = 0;
inline constexpr uint64_t kHeaderOffsets[2] = {64 * kKiB, 128 * kKiB};
inline constexpr uint64_t kRegionTableOffsets[2] = {192 * kKiB, 256 * kKiB};
inline constexpr uint64_t kHeaderSectionSize = kMiB;
inline constexpr size_t kHeaderSize = 4096;            // [MS-VHDX] 2.2.2
inline constexpr size_t kRegionTableSize = 64 * kKiB;  // [MS-VHDX] 2.2.3
inline constexpr uint32_t kMaxRegionEntries = 2047;    // [MS-VHDX] 2.2.3.1
inline constexpr uint64_t kAlignment = kMiB;  // regions, log and blocks sit on 1 MiB boundaries

// [MS-VHDX] 2.2.3.2 region GUIDs.
inline constexpr Guid kBatRegion{
    0x2DC27766, 0xF623, 0x4200, {0x9D, 0x64, 0x11, 0x5E, 0x9B, 0xFD, 0x4A, 0x08}};
inline constexpr Guid kMetadataRegion{
    0x8B7CA206, 0x4790, 0x4B9A, {0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88, 0x6E}};

// [MS-VHDX] 2.2.2 Header.
struct Header {
  uint64_t sequence_number = 0;
  Guid file_write_guid;
  Guid data_write_guid;
  Guid log_guid;             // zero: the log holds nothing to replay
  uint16_t log_version = 0;  // MUST be 0
  uint16_t version = 1;      // MUST be 1
  uint32_t log_length = 0;
  uint64_t log_offset = 0;
};

Result<Header> parse_header(std::span<const uint8_t> bytes);  // names what is wrong
std::array<uint8_t, kHeaderSize> serialize_header(const Header& header);

// [MS-VHDX] 2.2.3.2 Region Table Entry.
struct RegionEntry {
  Guid guid;
  uint64_t file_offset = 0;
  uint32_t length = 0;
  bool required = false;
};

Result<std::vector<RegionEntry>> parse_region_table(std::span<const uint8_t> bytes);
std::vector<uint8_t> serialize_region_table(const std::vector<RegionEntry>& entries);

// [MS-VHDX] 2.2.1 File Type Identifier: "vhdxfile" and the creator, UTF-16LE.
bool has_file_identifier(std::span<const uint8_t> bytes);
std::vector<uint8_t> serialize_file_identifier(const std::string& creator);
std::string file_creator(std::span<const uint8_t> bytes);

}  // namespace cella::block::vhdx
