#include "devices/acpi_pm/acpi_pm.h"

#include <gtest/gtest.h>

#include <map>

namespace cella::devices {
namespace {

class RecordingSink final : public InterruptSink {
 public:
  void set_gsi(uint32_t gsi, bool level) override { levels[gsi] = level; }
  std::map<uint32_t, bool> levels;
};

struct Fixture {
  ManualClock clock;
  TimerQueue timers{clock};
  RecordingSink sink;
  int power_offs = 0;
  AcpiPm pm{timers, IrqLine(sink, 9), 5, [this] { ++power_offs; }};

  uint64_t in(uint64_t offset, size_t size) {
    uint8_t data[4] = {};
    pm.read(offset, std::span(data, size));
    return access_value(std::span<const uint8_t>(data, size));
  }
  void out(uint64_t offset, size_t size, uint64_t value) {
    uint8_t data[4];
    fill_access(std::span(data, size), value);
    pm.write(offset, std::span<const uint8_t>(data, size));
  }
};

TEST(AcpiPm, AlwaysInAcpiModeAndS5PowersOff) {
  Fixture f;
  EXPECT_EQ(f.in(4, 2) & 1, 1u);       // SCI_EN
  f.out(4, 2, (3 << 10) | (1 << 13));  // S3: not offered, ignored
  EXPECT_EQ(f.power_offs, 0);
  f.out(4, 2, (5 << 10) | (1 << 13));  // SLP_TYP = S5, SLP_EN
  EXPECT_EQ(f.power_offs, 1);
  EXPECT_EQ(f.in(4, 2) & (1 << 13), 0u);  // SLP_EN reads 0
  EXPECT_EQ(f.pm.metrics().sleep_requests, 2u);
  // Byte writes reach the high byte too (SLP_EN is bit 13: byte 5, bit 5).
  f.out(4, 1, 0);
  f.out(5, 1, (5 << 2) | (1 << 5));
  EXPECT_EQ(f.power_offs, 2);
}

TEST(AcpiPm, TimerCountsAt3579545HzIn24Bits) {
  Fixture f;
  EXPECT_EQ(f.in(8, 4), 0u);
  f.clock.advance(1'000'000'000);
  EXPECT_EQ(f.in(8, 4), 3579545u);
  f.clock.advance(4'000'000'000);  // 5 s: 17897725 ticks, wrapped at 2^24
  EXPECT_EQ(f.in(8, 4), 17897725u & 0xffffff);
  EXPECT_EQ(f.in(8, 1), 17897725u & 0xff);
  EXPECT_EQ(f.in(9, 1), (17897725u >> 8) & 0xff);
  f.out(8, 4, 0);  // read-only
  EXPECT_EQ(f.in(8, 4), 17897725u & 0xffffff);
}

TEST(AcpiPm, TimerCarrySetsStatusAndRaisesSciWhenEnabled) {
  Fixture f;
  f.out(2, 2, 1);  // TMR_EN
  ASSERT_TRUE(f.timers.next_deadline_ns().has_value());
  // Bit 23 toggles after 2^23 ticks = 2.343 s.
  const uint64_t carry = *f.timers.next_deadline_ns();
  EXPECT_NEAR(static_cast<double>(carry), 8388608.0 / 3579545.0 * 1e9, 1.0);
  f.clock.set(carry - 1);
  f.timers.run_due();
  EXPECT_FALSE(f.sink.levels[9]);
  f.clock.set(carry);
  f.timers.run_due();
  EXPECT_EQ(f.in(0, 2) & 1, 1u);  // TMR_STS
  EXPECT_TRUE(f.sink.levels[9]);
  f.out(0, 2, 1);  // write 1 to clear
  EXPECT_EQ(f.in(0, 2) & 1, 0u);
  EXPECT_FALSE(f.sink.levels[9]);
  EXPECT_EQ(f.pm.metrics().sci_raised, 1u);
}

TEST(AcpiPm, PowerButtonRaisesSciOnlyWhenEnabled) {
  Fixture f;
  f.pm.request_power_button();
  EXPECT_EQ(f.in(0, 2) & (1 << 8), 1u << 8);
  EXPECT_FALSE(f.sink.levels[9]);
  f.out(2, 2, 1 << 8);  // PWRBTN_EN
  EXPECT_TRUE(f.sink.levels[9]);
  f.out(0, 2, 1 << 8);
  EXPECT_FALSE(f.sink.levels[9]);
}

TEST(AcpiPm, SnapshotKeepsRegistersAndTheTimer) {
  Fixture a;
  a.out(2, 2, 1 << 8);
  a.pm.request_power_button();
  a.clock.advance(123'456'789);
  snapshot::StateWriter w;
  a.pm.save(w);
  Fixture b;
  b.clock.set(10'000'000'000);
  snapshot::StateReader r(w.data());
  ASSERT_TRUE(b.pm.load(r).ok());
  EXPECT_EQ(b.in(0, 2), a.in(0, 2));
  EXPECT_EQ(b.in(2, 2), a.in(2, 2));
  EXPECT_NEAR(static_cast<double>(b.in(8, 4)), static_cast<double>(a.in(8, 4)), 1.0);
  EXPECT_TRUE(b.sink.levels[9]);  // the pending power button SCI is restored
  const std::vector<uint8_t> truncated(w.data().begin(), w.data().end() - 1);
  snapshot::StateReader bad(truncated);
  EXPECT_FALSE(b.pm.load(bad).ok());
}

}  // namespace
}  // namespace cella::devices
