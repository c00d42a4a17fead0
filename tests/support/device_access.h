// Register access helpers for device tests: sized little-endian reads and writes through a
// Device's read/write at an offset, as a CPU's MMIO or port I/O access would make them.
#pragma once

#include <array>
#include <cstdint>

#include "devices/device.h"

namespace cella::testing {

inline uint64_t read_reg(devices::Device& device, uint64_t offset, unsigned size = 4) {
  std::array<uint8_t, 8> data{};
  device.read(offset, std::span<uint8_t>(data.data(), size));
  return devices::access_value(std::span<const uint8_t>(data.data(), size));
}

inline void write_reg(devices::Device& device, uint64_t offset, uint64_t value, unsigned size = 4) {
  std::array<uint8_t, 8> data{};
  devices::fill_access(std::span<uint8_t>(data.data(), size), value);
  device.write(offset, std::span<const uint8_t>(data.data(), size));
}

}  // namespace cella::testing
