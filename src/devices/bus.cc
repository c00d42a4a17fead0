#include "devices/bus.h"

#include <algorithm>

namespace cella::devices {

Result<void> Bus::add(uint64_t base, uint64_t length, Device& device) {
  if (length == 0) {
    return make_error("{} bus: {} has an empty range at {:#x}", name_, device.name(), base);
  }
  if (base + (length - 1) < base) {
    return make_error("{} bus: {} range {:#x}+{:#x} wraps around", name_, device.name(), base,
                      length);
  }
  const uint64_t last = base + (length - 1);
  auto next = ranges_.lower_bound(base);
  if (next != ranges_.end() && next->first <= last) {
    return make_error("{} bus: {} at {:#x}-{:#x} overlaps {} at {:#x}", name_, device.name(), base,
                      last, next->second.device->name(), next->first);
  }
  if (next != ranges_.begin()) {
    const Mapping& before = std::prev(next)->second;
    if (before.base + (before.length - 1) >= base) {
      return make_error("{} bus: {} at {:#x}-{:#x} overlaps {} at {:#x}", name_, device.name(),
                        base, last, before.device->name(), before.base);
    }
  }
  ranges_.emplace(base, Mapping{base, length, &device});
  return ok();
}

Result<void> Bus::remove(uint64_t base) {
  if (ranges_.erase(base) == 0) return make_error("{} bus: nothing mapped at {:#x}", name_, base);
  return ok();
}

const Bus::Mapping* Bus::find(uint64_t address, uint64_t size) const {
  auto it = ranges_.upper_bound(address);
  if (it == ranges_.begin()) return nullptr;
  const Mapping& m = std::prev(it)->second;
  const uint64_t offset = address - m.base;
  if (offset >= m.length || size > m.length - offset) return nullptr;
  return &m;
}

bool Bus::read(uint64_t address, std::span<uint8_t> data) const {
  const Mapping* m = find(address, data.size());
  if (m == nullptr) {
    std::fill(data.begin(), data.end(), uint8_t{0xff});
    return false;
  }
  m->device->read(address - m->base, data);
  return true;
}

bool Bus::write(uint64_t address, std::span<const uint8_t> data) const {
  const Mapping* m = find(address, data.size());
  if (m == nullptr) return false;
  m->device->write(address - m->base, data);
  return true;
}

}  // namespace cella::devices
