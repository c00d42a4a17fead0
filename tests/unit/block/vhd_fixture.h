// Hand-built VHD files, written field by field from the specification ("Virtual Hard Disk Image
// Format Specification" v1.0: "Hard Disk Footer Format", "Dynamic Disk Header Format", "Block
// Allocation Table and Data Blocks"), independently of Cella's VHD code, so that a misreading
// of the specification in src/block/vhd cannot hide in a round trip.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace cella::block::testing::vhd_spec {

inline void put_be(std::vector<uint8_t>& out, size_t at, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out[at + i] = static_cast<uint8_t>(value >> (8 * (bytes - 1 - i)));
}

// The footer/header checksum: one's complement of the byte sum, checksum field excluded.
inline void put_checksum(std::vector<uint8_t>& out, size_t start, size_t length, size_t field) {
  uint32_t sum = 0;
  for (size_t i = start; i < start + length; ++i) {
    if (i < start + field || i >= start + field + 4) sum += out[i];
  }
  put_be(out, start + field, ~sum, 4);
}

using Id = std::array<uint8_t, 16>;

struct FooterSpec {
  uint64_t size = 0;
  uint32_t disk_type = 3;  // 2 fixed, 3 dynamic, 4 differencing
  Id unique_id{};
  uint32_t timestamp = 0x2A000000;
  char creator[4] = {'t', 'e', 's', 't'};
  uint16_t cylinders = 65535;  // the maximum geometry: readers use Current Size
  uint8_t heads = 16, sectors_per_track = 255;
  uint8_t saved_state = 0;
  uint32_t version = 0x00010000;
};

inline std::vector<uint8_t> footer_bytes(const FooterSpec& spec, uint64_t data_offset) {
  std::vector<uint8_t> f(512, 0);
  std::memcpy(&f[0], "conectix", 8);
  put_be(f, 8, 2, 4);              // Features: reserved bit set
  put_be(f, 12, spec.version, 4);  // File Format Version
  put_be(f, 16, data_offset, 8);
  put_be(f, 24, spec.timestamp, 4);
  std::memcpy(&f[28], spec.creator, 4);
  put_be(f, 32, 0x00050003, 4);
  std::memcpy(&f[36], "Wi2k", 4);
  put_be(f, 40, spec.size, 8);  // Original Size
  put_be(f, 48, spec.size, 8);  // Current Size
  put_be(f, 56, spec.cylinders, 2);
  f[58] = spec.heads;
  f[59] = spec.sectors_per_track;
  put_be(f, 60, spec.disk_type, 4);
  std::memcpy(&f[68], spec.unique_id.data(), 16);
  f[84] = spec.saved_state;
  put_checksum(f, 0, 512, 64);
  return f;
}

struct LocatorSpec {
  uint32_t code = 0;  // 'W2ru' 0x57327275, 'W2ku' 0x57326B75, 'MacX' 0x4D616358
  std::vector<uint8_t> data;
};

inline std::vector<uint8_t> utf16le(const std::string& ascii) {
  std::vector<uint8_t> out;
  for (char c : ascii) {
    out.push_back(static_cast<uint8_t>(c));
    out.push_back(0);
  }
  return out;
}

struct BlockSpec {
  std::vector<bool> present;  // one flag per sector of the block
  std::vector<uint8_t> data;  // block_size bytes
};

struct DynamicSpec {
  FooterSpec footer;
  uint32_t block_size = 4096;
  uint32_t max_table_entries = 0;  // 0: exactly enough for the size
  Id parent_id{};
  uint32_t parent_timestamp = 0;
  std::string parent_name;  // ASCII, stored as UTF-16 big-endian
  std::vector<LocatorSpec> locators;
  std::map<uint32_t, BlockSpec> blocks;
};

// Layout: footer copy, header, BAT, locator data, then the blocks in *descending* index order
// (so that BAT indirection is exercised), then the footer.
inline std::vector<uint8_t> build_dynamic(const DynamicSpec& spec) {
  const uint32_t entries =
      spec.max_table_entries != 0
          ? spec.max_table_entries
          : static_cast<uint32_t>((spec.footer.size + spec.block_size - 1) / spec.block_size);
  const uint64_t bat_offset = 1536;
  const uint64_t bat_bytes = (uint64_t{entries} * 4 + 511) / 512 * 512;
  std::vector<uint8_t> file(bat_offset + bat_bytes, 0);
  std::memcpy(&file[512], "cxsparse", 8);
  put_be(file, 512 + 8, ~0ull, 8);
  put_be(file, 512 + 16, bat_offset, 8);
  put_be(file, 512 + 24, 0x00010000, 4);
  put_be(file, 512 + 28, entries, 4);
  put_be(file, 512 + 32, spec.block_size, 4);
  std::memcpy(&file[512 + 40], spec.parent_id.data(), 16);
  put_be(file, 512 + 56, spec.parent_timestamp, 4);
  for (size_t i = 0; i < spec.parent_name.size() && i < 255; ++i) {
    put_be(file, 512 + 64 + 2 * i, static_cast<uint8_t>(spec.parent_name[i]), 2);
  }
  for (size_t i = 0; i < bat_bytes; ++i) file[bat_offset + i] = 0xFF;
  for (size_t i = 0; i < spec.locators.size(); ++i) {
    const LocatorSpec& locator = spec.locators[i];
    const uint64_t offset = file.size();
    const uint64_t space = (locator.data.size() + 511) / 512 * 512;
    file.resize(offset + space, 0);
    std::memcpy(&file[offset], locator.data.data(), locator.data.size());
    const size_t entry = 512 + 576 + 24 * i;
    put_be(file, entry, locator.code, 4);
    put_be(file, entry + 4, space / 512, 4);
    put_be(file, entry + 8, locator.data.size(), 4);
    put_be(file, entry + 16, offset, 8);
  }
  put_checksum(file, 512, 1024, 36);
  const uint64_t sectors = spec.block_size / 512;
  const uint64_t bitmap_bytes = ((sectors + 7) / 8 + 511) / 512 * 512;
  for (auto it = spec.blocks.rbegin(); it != spec.blocks.rend(); ++it) {
    const uint64_t offset = file.size();
    file.resize(offset + bitmap_bytes + spec.block_size, 0);
    for (uint64_t s = 0; s < sectors && s < it->second.present.size(); ++s) {
      if (it->second.present[s]) file[offset + s / 8] |= static_cast<uint8_t>(0x80 >> (s % 8));
    }
    std::memcpy(&file[offset + bitmap_bytes], it->second.data.data(),
                std::min<size_t>(it->second.data.size(), spec.block_size));
    put_be(file, bat_offset + 4 * it->first, offset / 512, 4);
  }
  const std::vector<uint8_t> footer = footer_bytes(spec.footer, 512);
  std::memcpy(&file[0], footer.data(), 512);
  file.insert(file.end(), footer.begin(), footer.end());
  return file;
}

inline std::vector<uint8_t> build_fixed(const FooterSpec& spec, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> file = data;
  file.resize(spec.size, 0);
  const std::vector<uint8_t> footer = footer_bytes(spec, ~0ull);
  file.insert(file.end(), footer.begin(), footer.end());
  return file;
}

// Reads a block's bitmap bit and BAT entry back from a file, per the specification.
inline uint32_t bat_entry(const std::vector<uint8_t>& file, uint32_t block) {
  uint64_t header = 0;
  for (int i = 0; i < 8; ++i) header = header << 8 | file[16 + i];
  uint64_t table = 0;
  for (int i = 0; i < 8; ++i) table = table << 8 | file[header + 16 + i];
  uint32_t entry = 0;
  for (int i = 0; i < 4; ++i) entry = entry << 8 | file[table + 4 * block + i];
  return entry;
}

inline bool sector_present(const std::vector<uint8_t>& file, uint32_t block, uint32_t sector) {
  const uint32_t entry = bat_entry(file, block);
  if (entry == 0xFFFFFFFF) return false;
  return (file[uint64_t{entry} * 512 + sector / 8] >> (7 - sector % 8)) & 1;
}

}  // namespace cella::block::testing::vhd_spec
