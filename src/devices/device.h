// The interface of every emulated device: register reads and writes at offsets inside the
// device's range (port I/O and MMIO alike), reset, and its snapshot state. A device never
// knows which engine runs the CPU nor where it is mapped; it reaches the rest of the machine
// through what it was constructed with (IrqLines, a TimerQueue, backends).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "base/result.h"
#include "snapshot/state_stream.h"

namespace cella::devices {

class Device {
 public:
  virtual ~Device() = default;

  virtual std::string_view name() const = 0;
  // An access of data.size() bytes (1, 2, 4 or 8) at `offset` from the start of the range the
  // device was mapped at. Reads fill every byte of `data`.
  virtual void read(uint64_t offset, std::span<uint8_t> data) = 0;
  virtual void write(uint64_t offset, std::span<const uint8_t> data) = 0;
  // The state after power-on or a system reset.
  virtual void reset() = 0;
  // One versioned section (snapshot/state_stream.h) named after the device.
  virtual void save(snapshot::StateWriter& out) const = 0;
  virtual Result<void> load(snapshot::StateReader& in) = 0;
};

// Little-endian access values for devices whose registers are integers.
inline uint64_t access_value(std::span<const uint8_t> data) {
  uint64_t value = 0;
  for (size_t i = 0; i < data.size() && i < 8; ++i) value |= uint64_t{data[i]} << (8 * i);
  return value;
}
inline void fill_access(std::span<uint8_t> data, uint64_t value) {
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = i < 8 ? static_cast<uint8_t>(value >> (8 * i)) : 0;
}

}  // namespace cella::devices
