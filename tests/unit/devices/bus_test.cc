#include "devices/bus.h"

#include <gtest/gtest.h>

#include <array>

namespace cella::devices {
namespace {

// Records accesses and answers reads with the offset.
class Probe final : public Device {
 public:
  explicit Probe(std::string_view name) : name_(name) {}
  std::string_view name() const override { return name_; }
  void read(uint64_t offset, std::span<uint8_t> data) override {
    last_offset = offset;
    fill_access(data, offset);
  }
  void write(uint64_t offset, std::span<const uint8_t> data) override {
    last_offset = offset;
    last_value = access_value(data);
  }
  void reset() override {}
  void save(snapshot::StateWriter&) const override {}
  Result<void> load(snapshot::StateReader&) override { return ok(); }

  uint64_t last_offset = ~0ull;
  uint64_t last_value = 0;

 private:
  std::string_view name_;
};

TEST(Bus, RoutesAccessesByOffsetInsideTheRange) {
  Bus bus("pio");
  Probe uart("uart"), pit("pit");
  ASSERT_TRUE(bus.add(0x3f8, 8, uart).ok());
  ASSERT_TRUE(bus.add(0x40, 4, pit).ok());
  std::array<uint8_t, 1> byte{};
  EXPECT_TRUE(bus.read(0x3fd, byte));
  EXPECT_EQ(byte[0], 5);
  const std::array<uint8_t, 2> word{0x34, 0x12};
  EXPECT_TRUE(bus.write(0x42, word));
  EXPECT_EQ(pit.last_offset, 2u);
  EXPECT_EQ(pit.last_value, 0x1234u);
}

TEST(Bus, UnclaimedAndStraddlingAccessesReadAllOnes) {
  Bus bus("mmio");
  Probe dev("dev");
  ASSERT_TRUE(bus.add(0x1000, 0x10, dev).ok());
  std::array<uint8_t, 4> data{};
  EXPECT_FALSE(bus.read(0x2000, data));
  EXPECT_EQ(data, (std::array<uint8_t, 4>{0xff, 0xff, 0xff, 0xff}));
  EXPECT_FALSE(bus.read(0x100e, data));  // crosses the end of the range
  EXPECT_FALSE(bus.write(0xffe, data));  // starts before it
  EXPECT_EQ(dev.last_offset, ~0ull);
  EXPECT_TRUE(bus.read(0x100c, data));
  EXPECT_EQ(dev.last_offset, 0xcu);
}

TEST(Bus, RefusesEmptyWrappingAndOverlappingRanges) {
  Bus bus("mmio");
  Probe a("a"), b("b");
  ASSERT_TRUE(bus.add(0x1000, 0x1000, a).ok());
  EXPECT_FALSE(bus.add(0x3000, 0, b).ok());
  EXPECT_FALSE(bus.add(~0ull - 4, 0x10, b).ok());
  EXPECT_TRUE(bus.add(~0ull, 1, b).ok());  // the very last byte is a valid range
  auto overlap = bus.add(0x1fff, 2, b);
  ASSERT_FALSE(overlap.ok());
  EXPECT_NE(overlap.error().message().find("overlaps a"), std::string::npos);
  EXPECT_FALSE(bus.add(0x800, 0x801, b).ok());
  EXPECT_FALSE(bus.add(0x1800, 0x10, b).ok());
  EXPECT_TRUE(bus.add(0x2000, 0x10, b).ok());  // one device may own several ranges
}

TEST(Bus, RemoveFreesTheRange) {
  Bus bus("mmio");
  Probe a("a");
  ASSERT_TRUE(bus.add(0x1000, 0x100, a).ok());
  EXPECT_FALSE(bus.remove(0x1001).ok());
  ASSERT_TRUE(bus.remove(0x1000).ok());
  std::array<uint8_t, 1> byte{};
  EXPECT_FALSE(bus.read(0x1000, byte));
  EXPECT_TRUE(bus.add(0x1080, 0x100, a).ok());
}

}  // namespace
}  // namespace cella::devices
