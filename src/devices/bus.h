// An address space of devices: the port I/O bus (16-bit ports) or the MMIO bus (guest-physical
// addresses). A bus is a sorted map of non-overlapping ranges; adding an empty, overflowing or
// overlapping range is an error. An access that no device claims, or that straddles the end
// of a device's range, reads as all ones and its writes are dropped, as on a PC's open bus.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "base/result.h"
#include "devices/device.h"

namespace cella::devices {

class Bus {
 public:
  explicit Bus(std::string name) : name_(std::move(name)) {}

  struct Mapping {
    uint64_t base;
    uint64_t length;
    Device* device;
  };

  Result<void> add(uint64_t base, uint64_t length, Device& device);
  // Removes the range starting at `base` (PCI BARs move when the guest reprograms them).
  Result<void> remove(uint64_t base);
  // The mapping that contains [address, address + size), or nullptr.
  const Mapping* find(uint64_t address, uint64_t size = 1) const;

  // Return whether a device claimed the access.
  bool read(uint64_t address, std::span<uint8_t> data) const;
  bool write(uint64_t address, std::span<const uint8_t> data) const;

  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::map<uint64_t, Mapping> ranges_;  // keyed by base
};

}  // namespace cella::devices
