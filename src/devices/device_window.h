// A window onto part of a device's register space, for devices whose PC ports are not
// contiguous (the i8042 at 0x60 and 0x64, the dual 8259 at 0x20, 0xa0 and 0x4d0): each device
// numbers its registers in one offset space and lists its standard ports as PortRanges; the
// machine maps one DeviceWindow per range. A window has no state of its own: reset and
// snapshots belong to the device, which the machine resets and saves once.
#pragma once

#include <cstdint>

#include "devices/device.h"

namespace cella::devices {

// `length` ports at `port` reach the device at offsets [offset, offset + length).
struct PortRange {
  uint16_t port;
  uint16_t length;
  uint64_t offset;
};

class DeviceWindow final : public Device {
 public:
  DeviceWindow(Device& device, uint64_t offset) : device_(device), offset_(offset) {}

  std::string_view name() const override { return device_.name(); }
  void read(uint64_t offset, std::span<uint8_t> data) override {
    device_.read(offset_ + offset, data);
  }
  void write(uint64_t offset, std::span<const uint8_t> data) override {
    device_.write(offset_ + offset, data);
  }
  void reset() override {}
  void save(snapshot::StateWriter&) const override {}
  Result<void> load(snapshot::StateReader&) override { return ok(); }

 private:
  Device& device_;
  uint64_t offset_;
};

}  // namespace cella::devices
