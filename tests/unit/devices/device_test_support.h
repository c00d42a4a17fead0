// Helpers for device tests: a recording interrupt sink, byte-wide register access, and a
// snapshot round trip into a fresh instance.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <map>
#include <vector>

#include "devices/device.h"
#include "devices/irq.h"

namespace cella::devices::testing {

// Records every level change per GSI.
class RecordingSink final : public InterruptSink {
 public:
  void set_gsi(uint32_t gsi, bool level) override {
    if (level && !levels[gsi]) ++rising_edges[gsi];
    levels[gsi] = level;
    history.push_back({gsi, level});
  }
  bool level(uint32_t gsi) const {
    auto it = levels.find(gsi);
    return it != levels.end() && it->second;
  }
  int edges(uint32_t gsi) const {
    auto it = rising_edges.find(gsi);
    return it == rising_edges.end() ? 0 : it->second;
  }

  std::map<uint32_t, bool> levels;
  std::map<uint32_t, int> rising_edges;
  std::vector<std::pair<uint32_t, bool>> history;
};

inline uint8_t inb(Device& device, uint64_t offset) {
  std::array<uint8_t, 1> byte{};
  device.read(offset, byte);
  return byte[0];
}
inline void outb(Device& device, uint64_t offset, uint8_t value) {
  const std::array<uint8_t, 1> byte{value};
  device.write(offset, byte);
}

// Saves `from` and loads the state into `into`; fails the test on any error.
inline void round_trip(const Device& from, Device& into) {
  snapshot::StateWriter out;
  from.save(out);
  snapshot::StateReader in(out.data());
  auto loaded = into.load(in);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_TRUE(in.at_end());
}

}  // namespace cella::devices::testing
