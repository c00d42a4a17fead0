// Hand-built VHDX files, written field by field from [MS-VHDX] (2.2 header section, 2.3 log,
// 2.5 BAT, 2.6 metadata), independently of Cella's VHDX code, so that a misreading of the
// specification in src/block/vhdx cannot hide in a round trip. Only CRC-32C is shared
// (base/crc32c, checked against RFC 3720's vectors).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "base/crc32c.h"

namespace cella::block::testing::vhdx_spec {

constexpr uint64_t kMiB = 1 << 20;
using Bytes = std::vector<uint8_t>;
using GuidBytes = std::array<uint8_t, 16>;

inline void put_le(Bytes& out, uint64_t at, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out[at + i] = static_cast<uint8_t>(value >> (8 * i));
}
inline void put_bytes(Bytes& out, uint64_t at, const void* data, size_t size) {
  std::memcpy(&out[at], data, size);
}
// CRC-32C of out[start, start+length) with the 4-byte field at start+field zeroed, stored there.
inline void put_crc(Bytes& out, uint64_t start, uint64_t length, uint64_t field) {
  put_le(out, start + field, 0, 4);
  put_le(out, start + field, cella::crc32c(std::span<const uint8_t>(&out[start], length)), 4);
}

// GUIDs as [MS-VHDX] 2.1 stores them: Data1-3 little-endian, then Data4.
constexpr GuidBytes kBatRegion = {0x66, 0x77, 0xC2, 0x2D, 0x23, 0xF6, 0x00, 0x42,
                                  0x9D, 0x64, 0x11, 0x5E, 0x9B, 0xFD, 0x4A, 0x08};
constexpr GuidBytes kMetadataRegion = {0x06, 0xA2, 0x7C, 0x8B, 0x90, 0x47, 0x9A, 0x4B,
                                       0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88, 0x6E};
constexpr GuidBytes kFileParameters = {0x37, 0x67, 0xA1, 0xCA, 0x36, 0xFA, 0x43, 0x4D,
                                       0xB3, 0xB6, 0x33, 0xF0, 0xAA, 0x44, 0xE7, 0x6B};
constexpr GuidBytes kVirtualDiskSize = {0x24, 0x42, 0xA5, 0x2F, 0x1B, 0xCD, 0x76, 0x48,
                                        0xB2, 0x11, 0x5D, 0xBE, 0xD8, 0x3B, 0xF4, 0xB8};
constexpr GuidBytes kLogicalSectorSize = {0x1D, 0xBF, 0x41, 0x81, 0x6F, 0xA9, 0x09, 0x47,
                                          0xBA, 0x47, 0xF2, 0x33, 0xA8, 0xFA, 0xAB, 0x5F};
constexpr GuidBytes kPhysicalSectorSize = {0xC7, 0x48, 0xA3, 0xCD, 0x5D, 0x44, 0x71, 0x44,
                                           0x9C, 0xC9, 0xE9, 0x88, 0x52, 0x51, 0xC5, 0x56};
constexpr GuidBytes kParentLocator = {0x2D, 0x5F, 0xD3, 0xA8, 0x0B, 0xB3, 0x4D, 0x45,
                                      0xAB, 0xF7, 0xD3, 0xD8, 0x48, 0x34, 0xAB, 0x0C};
constexpr GuidBytes kVhdxLocatorType = {0xB7, 0xEF, 0x4A, 0xB0, 0x9E, 0xD1, 0x81, 0x4A,
                                        0xB7, 0x89, 0x25, 0xB8, 0xE9, 0x44, 0x59, 0x13};

struct BlockSpec {
  uint8_t state = 6;          // [MS-VHDX] 2.5.1.1: 6 fully present, 7 partially present, ...
  Bytes data;                 // block_size bytes (present states)
  std::vector<bool> sectors;  // partially present: which logical sectors are in this file
};

struct VhdxSpec {
  uint64_t size = 4 * kMiB;
  uint32_t block_size = kMiB;
  uint32_t logical_sector = 512;
  bool has_parent = false;
  GuidBytes data_write_guid{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  GuidBytes log_guid{};
  std::vector<std::pair<std::string, std::string>> locator;  // ASCII key/values
  std::map<uint64_t, BlockSpec> blocks;
  uint64_t log_offset = kMiB, log_length = kMiB;
  uint64_t metadata_offset = 2 * kMiB, bat_offset = 3 * kMiB;
};

inline uint64_t chunk_ratio(const VhdxSpec& spec) {
  return (uint64_t{1} << 23) * spec.logical_sector / spec.block_size;
}
inline uint64_t payload_index(const VhdxSpec& spec, uint64_t block) {
  return block + block / chunk_ratio(spec);
}

inline Bytes utf16le(const std::string& ascii) {
  Bytes out;
  for (char c : ascii) {
    out.push_back(static_cast<uint8_t>(c));
    out.push_back(0);
  }
  return out;
}

inline Bytes header_bytes(const VhdxSpec& spec, uint64_t sequence) {
  Bytes h(4096, 0);
  put_bytes(h, 0, "head", 4);
  put_le(h, 8, sequence, 8);
  for (int i = 0; i < 16; ++i) h[16 + i] = static_cast<uint8_t>(0xF0 + i);  // FileWriteGuid
  put_bytes(h, 32, spec.data_write_guid.data(), 16);
  put_bytes(h, 48, spec.log_guid.data(), 16);
  put_le(h, 64, 0, 2);  // LogVersion
  put_le(h, 66, 1, 2);  // Version
  put_le(h, 68, spec.log_length, 4);
  put_le(h, 72, spec.log_offset, 8);
  put_crc(h, 0, 4096, 4);
  return h;
}

// The whole file. Blocks are placed after the BAT in descending order (BAT indirection is
// exercised), each chunk's sector bitmap block after them.
inline Bytes build(const VhdxSpec& spec) {
  const uint64_t data_start = spec.bat_offset + kMiB;
  const uint64_t ratio = chunk_ratio(spec);
  uint64_t end = data_start;
  std::map<uint64_t, uint64_t> block_offsets, bitmap_offsets;
  for (auto it = spec.blocks.rbegin(); it != spec.blocks.rend(); ++it) {
    if (it->second.state == 6 || it->second.state == 7) {
      block_offsets[it->first] = end;
      end += spec.block_size;
    }
    if (it->second.state == 7 && !bitmap_offsets.count(it->first / ratio)) {
      bitmap_offsets[it->first / ratio] = end;
      end += kMiB;
    }
  }
  Bytes file(end, 0);
  // [MS-VHDX] 2.2.1 file type identifier, 2.2.2 headers (the second one current).
  put_bytes(file, 0, "vhdxfile", 8);
  const Bytes creator = utf16le("hand-built fixture");
  put_bytes(file, 8, creator.data(), creator.size());
  Bytes h1 = header_bytes(spec, 10), h2 = header_bytes(spec, 11);
  put_bytes(file, 64 * 1024, h1.data(), h1.size());
  put_bytes(file, 128 * 1024, h2.data(), h2.size());
  // [MS-VHDX] 2.2.3 region table, twice.
  for (uint64_t table : {192 * 1024, 256 * 1024}) {
    put_bytes(file, table, "regi", 4);
    put_le(file, table + 8, 2, 4);
    put_bytes(file, table + 16, kBatRegion.data(), 16);
    put_le(file, table + 32, spec.bat_offset, 8);
    put_le(file, table + 40, kMiB, 4);
    put_le(file, table + 44, 1, 4);
    put_bytes(file, table + 48, kMetadataRegion.data(), 16);
    put_le(file, table + 64, spec.metadata_offset, 8);
    put_le(file, table + 72, kMiB, 4);
    put_le(file, table + 76, 1, 4);
    put_crc(file, table, 64 * 1024, 4);
  }
  // [MS-VHDX] 2.6 metadata table and items.
  const uint64_t m = spec.metadata_offset;
  struct Item {
    GuidBytes id;
    Bytes value;
    uint32_t flags;  // IsUser 1, IsVirtualDisk 2, IsRequired 4
  };
  Bytes params(8, 0), size(8, 0), logical(4, 0), physical(4, 0);
  put_le(params, 0, spec.block_size, 4);
  put_le(params, 4, spec.has_parent ? 2 : 0, 4);
  put_le(size, 0, spec.size, 8);
  put_le(logical, 0, spec.logical_sector, 4);
  put_le(physical, 0, 4096, 4);
  std::vector<Item> items = {{kFileParameters, params, 4},
                             {kVirtualDiskSize, size, 6},
                             {kLogicalSectorSize, logical, 6},
                             {kPhysicalSectorSize, physical, 6}};
  if (spec.has_parent) {
    Bytes locator(20 + 12 * spec.locator.size(), 0);
    put_bytes(locator, 0, kVhdxLocatorType.data(), 16);
    put_le(locator, 18, spec.locator.size(), 2);
    for (size_t i = 0; i < spec.locator.size(); ++i) {
      const Bytes key = utf16le(spec.locator[i].first), value = utf16le(spec.locator[i].second);
      put_le(locator, 20 + 12 * i, locator.size(), 4);
      put_le(locator, 20 + 12 * i + 8, key.size(), 2);
      locator.insert(locator.end(), key.begin(), key.end());
      put_le(locator, 20 + 12 * i + 4, locator.size(), 4);
      put_le(locator, 20 + 12 * i + 10, value.size(), 2);
      locator.insert(locator.end(), value.begin(), value.end());
    }
    items.push_back({kParentLocator, locator, 4});
  }
  put_bytes(file, m, "metadata", 8);
  put_le(file, m + 10, items.size(), 2);
  uint64_t item_offset = 64 * 1024;
  for (size_t i = 0; i < items.size(); ++i) {
    const uint64_t entry = m + 32 + 32 * i;
    put_bytes(file, entry, items[i].id.data(), 16);
    put_le(file, entry + 16, item_offset, 4);
    put_le(file, entry + 20, items[i].value.size(), 4);
    put_le(file, entry + 24, items[i].flags, 4);
    put_bytes(file, m + item_offset, items[i].value.data(), items[i].value.size());
    item_offset += (items[i].value.size() + 7) / 8 * 8;
  }
  // [MS-VHDX] 2.5 BAT: state in bits 0-2, FileOffsetMB in bits 20-63.
  for (const auto& [block, block_spec] : spec.blocks) {
    const uint64_t offset = block_offsets.count(block) ? block_offsets[block] : 0;
    put_le(file, spec.bat_offset + 8 * payload_index(spec, block), offset | block_spec.state, 8);
    if (offset != 0) put_bytes(file, offset, block_spec.data.data(), spec.block_size);
    if (block_spec.state == 7) {
      // [MS-VHDX] 2.4.2: bit 0 of byte 0 is the chunk's first logical sector.
      const uint64_t bitmap = bitmap_offsets[block / ratio];
      const uint64_t first = (block % ratio) * (spec.block_size / spec.logical_sector);
      for (size_t s = 0; s < block_spec.sectors.size(); ++s) {
        if (block_spec.sectors[s])
          file[bitmap + (first + s) / 8] |= static_cast<uint8_t>(1u << ((first + s) % 8));
      }
    }
  }
  for (const auto& [chunk, offset] : bitmap_offsets) {
    put_le(file, spec.bat_offset + 8 * (chunk * (ratio + 1) + ratio), offset | 6, 8);
  }
  return file;
}

// A log entry ([MS-VHDX] 2.3.1) written into the log region at `position`: data descriptors
// for whole 4 KiB pages, zero descriptors for ranges.
struct LogPage {
  uint64_t file_offset;
  Bytes bytes;  // 4096
};
struct LogZero {
  uint64_t file_offset, length;
};
struct LogEntrySpec {
  uint64_t position = 0, sequence = 1, tail = 0;
  GuidBytes log_guid{};
  std::vector<LogPage> pages;
  std::vector<LogZero> zeros;
  uint64_t flushed_file_offset = 0, last_file_offset = 0;
};

inline void write_log_entry(Bytes& file, const VhdxSpec& spec, const LogEntrySpec& entry) {
  const uint64_t descriptors = entry.pages.size() + entry.zeros.size();
  const uint64_t header_sectors = (64 + 32 * descriptors + 4095) / 4096;
  const uint64_t sectors = header_sectors + entry.pages.size();
  Bytes e(sectors * 4096, 0);
  put_bytes(e, 0, "loge", 4);
  put_le(e, 8, e.size(), 4);
  put_le(e, 12, entry.tail, 4);
  put_le(e, 16, entry.sequence, 8);
  put_le(e, 24, descriptors, 4);
  put_bytes(e, 32, entry.log_guid.data(), 16);
  put_le(e, 48, entry.flushed_file_offset, 8);
  put_le(e, 56, entry.last_file_offset, 8);
  uint64_t d = 64;
  for (const LogZero& zero : entry.zeros) {
    put_bytes(e, d, "zero", 4);
    put_le(e, d + 8, zero.length, 8);
    put_le(e, d + 16, zero.file_offset, 8);
    put_le(e, d + 24, entry.sequence, 8);
    d += 32;
  }
  for (size_t i = 0; i < entry.pages.size(); ++i) {
    const Bytes& page = entry.pages[i].bytes;
    put_bytes(e, d, "desc", 4);
    put_bytes(e, d + 4, &page[4092], 4);  // TrailingBytes
    put_bytes(e, d + 8, &page[0], 8);     // LeadingBytes
    put_le(e, d + 16, entry.pages[i].file_offset, 8);
    put_le(e, d + 24, entry.sequence, 8);
    d += 32;
    const uint64_t s = (header_sectors + i) * 4096;
    put_bytes(e, s, "data", 4);
    put_le(e, s + 4, entry.sequence >> 32, 4);
    put_bytes(e, s + 8, &page[8], 4084);
    put_le(e, s + 4092, entry.sequence & 0xFFFFFFFF, 4);
  }
  put_crc(e, 0, e.size(), 4);
  for (uint64_t i = 0; i < e.size(); ++i) {  // circular
    file[spec.log_offset + (entry.position + i) % spec.log_length] = e[i];
  }
}

// Rewrites both headers with a new LogGuid (the current one keeps the higher sequence number).
inline void set_log_guid(Bytes& file, VhdxSpec& spec, const GuidBytes& guid) {
  spec.log_guid = guid;
  Bytes h1 = header_bytes(spec, 10), h2 = header_bytes(spec, 11);
  put_bytes(file, 64 * 1024, h1.data(), h1.size());
  put_bytes(file, 128 * 1024, h2.data(), h2.size());
}

inline Bytes bat_page(const Bytes& file, const VhdxSpec& spec, uint64_t page) {
  return Bytes(file.begin() + spec.bat_offset + page * 4096,
               file.begin() + spec.bat_offset + (page + 1) * 4096);
}

}  // namespace cella::block::testing::vhdx_spec
