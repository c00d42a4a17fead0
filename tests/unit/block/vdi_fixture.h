// VDI images built byte by byte from the well-known 1.1 header layout, independently of Cella's
// encoder: differencing images (which qemu-img cannot create) and damaged images.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace cella::block::testing {

struct VdiFixture {
  uint32_t type = 1;  // 1 dynamic, 2 static, 4 differencing
  uint64_t disk_size = 4 << 20;
  uint32_t block_size = 1 << 20;
  uint32_t blocks_offset = 512;
  uint32_t data_offset = 4096;
  std::array<uint8_t, 16> create_uuid{};
  std::array<uint8_t, 16> modify_uuid{};
  std::array<uint8_t, 16> linkage_uuid{};
  std::array<uint8_t, 16> parent_modify_uuid{};
  std::vector<uint32_t> map;               // one entry per block
  std::vector<std::vector<uint8_t>> data;  // data slots, in order
  uint32_t allocated = ~0u;                // default: data.size()

  std::vector<uint8_t> bytes() const {
    std::vector<uint8_t> out(data_offset + data.size() * block_size, 0);
    const auto u32 = [&](size_t at, uint32_t v) { std::memcpy(&out[at], &v, 4); };
    const auto u64 = [&](size_t at, uint64_t v) { std::memcpy(&out[at], &v, 8); };
    const char text[] = "<<< Oracle VM VirtualBox Disk Image >>>\n";
    std::memcpy(&out[0], text, sizeof(text) - 1);
    u32(0x40, 0xbeda107f);
    u32(0x44, 0x00010001);
    u32(0x48, 0x190);
    u32(0x4c, type);
    u32(0x154, blocks_offset);
    u32(0x158, data_offset);
    u32(0x168, 512);  // legacy geometry: sector size
    u64(0x170, disk_size);
    u32(0x178, block_size);
    u32(0x180, static_cast<uint32_t>(map.size()));
    u32(0x184, allocated == ~0u ? static_cast<uint32_t>(data.size()) : allocated);
    std::memcpy(&out[0x188], create_uuid.data(), 16);
    std::memcpy(&out[0x198], modify_uuid.data(), 16);
    std::memcpy(&out[0x1a8], linkage_uuid.data(), 16);
    std::memcpy(&out[0x1b8], parent_modify_uuid.data(), 16);
    for (size_t i = 0; i < map.size(); ++i) u32(blocks_offset + i * 4, map[i]);
    for (size_t i = 0; i < data.size(); ++i) {
      std::memcpy(&out[data_offset + i * block_size], data[i].data(),
                  std::min<size_t>(data[i].size(), block_size));
    }
    return out;
  }
};

inline std::array<uint8_t, 16> uuid_of(uint8_t seed) {
  std::array<uint8_t, 16> uuid;
  for (size_t i = 0; i < uuid.size(); ++i) uuid[i] = static_cast<uint8_t>(seed + i * 17);
  return uuid;
}

}  // namespace cella::block::testing
