// The local APIC's snapshot: save, load into a fresh instance, and compare registers and
// behaviour (the timer resumes where it was, pending interrupts and events survive).
#include <gtest/gtest.h>

#include "devices/lapic/lapic.h"
#include "tests/support/device_access.h"
#include "tests/unit/devices/apic_fakes.h"

namespace cella::devices {
namespace {

using cella::testing::read_reg;
using cella::testing::write_reg;
using namespace lapic;

struct Machine {
  ManualClock clock;
  TimerQueue timers{clock};
  RecordingRouter router;
  FakeTsc tsc{clock};
  LapicConfig config{.apic_id = 2};
  Lapic apic{config, timers, &router, nullptr, &tsc};
};

std::vector<uint32_t> all_registers(Lapic& apic) {
  std::vector<uint32_t> values;
  for (uint16_t offset = 0; offset < 0x400; offset += 16) {
    values.push_back(static_cast<uint32_t>(read_reg(apic, offset)));
  }
  return values;
}

TEST(LapicState, RoundTripKeepsRegistersTimerAndPendingEvents) {
  Machine a;
  a.clock.set(1'000'000);
  write_reg(a.apic, kSvr, 0x1f0);
  write_reg(a.apic, kTpr, 0x20);
  write_reg(a.apic, kLdr, 0x04000000);
  write_reg(a.apic, 0x350, 0x8070);  // LINT0 level
  write_reg(a.apic, kLvtTimer, (1u << 17) | 0x31);
  write_reg(a.apic, kTimerDivide, 0xb);
  write_reg(a.apic, kTimerInitialCount, 1000);
  a.apic.accept({.vector = 0x81, .level_triggered = true});
  a.apic.accept({.vector = 0x45});
  ASSERT_EQ(a.apic.acknowledge(), 0x81);
  a.apic.accept({.mode = DeliveryMode::kNmi});
  a.apic.accept({.vector = 0x10, .mode = DeliveryMode::kStartUp});
  a.clock.advance(250);
  snapshot::StateWriter out;
  a.apic.save(out);

  Machine b;
  b.clock.set(77'000'000);  // another time line
  snapshot::StateReader in(out.data());
  ASSERT_TRUE(b.apic.load(in).ok());
  EXPECT_TRUE(in.at_end());
  EXPECT_EQ(all_registers(b.apic), all_registers(a.apic));
  EXPECT_EQ(read_reg(b.apic, kTimerCurrentCount), 750u);
  EXPECT_TRUE(b.apic.take_nmi());
  EXPECT_EQ(b.apic.take_sipi(), std::optional<uint8_t>(0x10));
  // Behaviour: the periodic timer fires 750 ns later, the level EOI is broadcast.
  b.clock.advance(749);
  EXPECT_EQ(b.timers.run_due(), 0);
  b.clock.advance(1);
  EXPECT_EQ(b.timers.run_due(), 1);
  write_reg(b.apic, kEoi, 0);
  EXPECT_EQ(b.router.eois, std::vector<uint8_t>{0x81});
}

TEST(LapicState, RoundTripInX2apicAndTscDeadlineMode) {
  Machine a;
  ASSERT_TRUE(a.apic.write_msr(0x1b, 0xfee00c00).ok);
  ASSERT_TRUE(a.apic.write_msr(0x80f, 0x1ff).ok);
  ASSERT_TRUE(a.apic.write_msr(0x832, (2u << 17) | 0x40).ok);
  const uint64_t deadline = a.tsc.tsc() + 30000;
  ASSERT_TRUE(a.apic.write_msr(0x6e0, deadline).ok);
  snapshot::StateWriter out;
  a.apic.save(out);

  Machine b;
  snapshot::StateReader in(out.data());
  ASSERT_TRUE(b.apic.load(in).ok());
  EXPECT_TRUE(b.apic.x2apic_mode());
  EXPECT_EQ(b.apic.read_msr(0x802).value, 2u);
  EXPECT_EQ(b.apic.read_msr(0x6e0).value, deadline);
  b.clock.set(9999);
  EXPECT_EQ(b.timers.run_due(), 0);
  b.clock.set(10000);
  EXPECT_EQ(b.timers.run_due(), 1);
  EXPECT_EQ(b.apic.read_msr(0x822).value, 1u);  // IRR bit 0x40
}

TEST(LapicState, HostileStreamsAreRefused) {
  Machine a;
  snapshot::StateWriter out;
  a.apic.save(out);
  std::vector<uint8_t> bytes = out.data();
  // The first payload field is IA32_APIC_BASE: EXTD without EN is not a state.
  const size_t base_at = 2 + 5 + 4 + 8;  // name length, "lapic", version, payload length
  bytes[base_at + 1] = 0x04;             // bit 10 set, bit 11 clear
  Machine b;
  snapshot::StateReader in(bytes);
  auto result = b.apic.load(in);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message().find("IA32_APIC_BASE"), std::string::npos);
  std::vector<uint8_t> cut(out.data().begin(), out.data().end() - 1);
  snapshot::StateReader short_in(cut);
  EXPECT_FALSE(b.apic.load(short_in).ok());
}

}  // namespace
}  // namespace cella::devices
