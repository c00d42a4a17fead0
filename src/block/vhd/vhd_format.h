// VHD on-disk structures, from Microsoft's "Virtual Hard Disk Image Format Specification"
// v1.0 (October 2006), cited below as [VHD] with the section title. Every field is big-endian.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "base/result.h"
#include "block/guid.h"

namespace cella::block::vhd {

inline constexpr uint64_t kSectorSize = 512;
inline constexpr size_t kFooterSize = 512;          // [VHD] "Hard Disk Footer Format"
inline constexpr size_t kOldFooterSize = 511;       // ... "versions previous to Virtual PC 2004"
inline constexpr size_t kDynamicHeaderSize = 1024;  // [VHD] "Dynamic Disk Header Format"
inline constexpr uint32_t kVersion = 0x00010000;    // File Format / Header Version 1.0
inline constexpr uint32_t kUnusedBatEntry = 0xFFFFFFFF;        // [VHD] "Block Allocation Table"
inline constexpr uint64_t kNoDataOffset = 0xFFFFFFFFFFFFFFFF;  // fixed disks' Data Offset
inline constexpr int kParentLocatorCount = 8;
inline constexpr size_t kParentNameBytes = 512;
// [VHD] "Hard Disk Footer Format", Time Stamp: seconds since January 1, 2000 12:00:00 UTC.
inline constexpr int64_t kVhdEpoch = 946684800;

// [VHD] "Hard Disk Footer Format", Disk Type.
enum class DiskType : uint32_t { kNone = 0, kFixed = 2, kDynamic = 3, kDifferencing = 4 };

// [VHD] "Hard Disk Footer Format", Disk Geometry: cylinders (2 bytes), heads and sectors per
// track (1 byte each).
struct Geometry {
  uint16_t cylinders = 0;
  uint8_t heads = 0;
  uint8_t sectors_per_track = 0;
  uint64_t total_sectors() const { return uint64_t{cylinders} * heads * sectors_per_track; }
  bool operator==(const Geometry&) const = default;
};

struct Footer {
  uint32_t features = 2;  // bit 1 "reserved" must be set; bit 0 "temporary"
  uint32_t format_version = kVersion;
  uint64_t data_offset = kNoDataOffset;  // dynamic header offset, or none for fixed disks
  uint32_t timestamp = 0;
  std::array<char, 4> creator_application{};  // "vpc ", "vs  ", "win ", "qemu", "cela", ...
  uint32_t creator_version = 0;
  uint32_t creator_host_os = 0;  // "Wi2k" or "Mac "
  uint64_t original_size = 0;
  uint64_t current_size = 0;
  Geometry geometry;
  uint32_t disk_type = 0;  // DiskType, kept raw so that unknown values can be named
  uint32_t checksum = 0;
  Guid unique_id;
  uint8_t saved_state = 0;

  DiskType type() const { return static_cast<DiskType>(disk_type); }
};

// [VHD] "Dynamic Disk Header Format", Parent Locator Entries.
struct ParentLocator {
  uint32_t platform_code = 0;  // PlatformCode below
  uint32_t data_space = 0;     // sectors reserved (some writers store bytes)
  uint32_t data_length = 0;    // bytes used
  uint64_t data_offset = 0;    // absolute file offset
};

// [VHD] "Dynamic Disk Header Format", Platform Code.
enum class PlatformCode : uint32_t {
  kNone = 0,
  kWi2r = 0x57693272,  // deprecated: relative path, ANSI
  kWi2k = 0x5769326B,  // deprecated: absolute path, ANSI
  kW2ru = 0x57327275,  // relative path, UTF-16 little-endian
  kW2ku = 0x57326B75,  // absolute path, UTF-16 little-endian
  kMac = 0x4D616320,   // Mac OS alias (opaque blob)
  kMacX = 0x4D616358,  // file URL, UTF-8 (RFC 2396)
};

struct DynamicHeader {
  uint64_t data_offset = kNoDataOffset;  // unused
  uint64_t table_offset = 0;             // absolute offset of the BAT
  uint32_t header_version = kVersion;
  uint32_t max_table_entries = 0;
  uint32_t block_size = 0;
  uint32_t checksum = 0;
  Guid parent_unique_id;
  uint32_t parent_timestamp = 0;
  std::array<uint8_t, kParentNameBytes> parent_name{};  // UTF-16 big-endian
  std::array<ParentLocator, kParentLocatorCount> locators{};
};

// [VHD] "Hard Disk Footer Format", Checksum: the one's complement of the sum of all bytes of the
// structure, the checksum field excluded (the same rule serves the dynamic header).
uint32_t vhd_checksum(std::span<const uint8_t> bytes, size_t checksum_offset);

// Parses a footer; `bytes` is 512 bytes (a 511-byte footer is passed zero-padded). Names the
// problem when the cookie, checksum or version is wrong.
Result<Footer> parse_footer(std::span<const uint8_t> bytes);
std::array<uint8_t, kFooterSize> serialize_footer(const Footer& footer);  // fills in checksum

Result<DynamicHeader> parse_dynamic_header(std::span<const uint8_t> bytes);
std::array<uint8_t, kDynamicHeaderSize> serialize_dynamic_header(const DynamicHeader& header);

std::string fourcc(uint32_t value);  // "Wi2k" for 0x5769326B, escaped when not printable
std::string disk_type_name(uint32_t disk_type);

}  // namespace cella::block::vhd
