// The APIC timer through its registers and IA32_TSC_DEADLINE, on a ManualClock: one-shot,
// periodic, Linux's calibration, divide changes, TSC-deadline mode.
#include <gtest/gtest.h>

#include "devices/lapic/lapic.h"
#include "tests/support/device_access.h"
#include "tests/unit/devices/apic_fakes.h"

namespace cella::devices {
namespace {

using cella::testing::read_reg;
using cella::testing::write_reg;
using namespace lapic;

constexpr uint32_t kPeriodic = 1u << 17;
constexpr uint32_t kTscDeadlineMode = 2u << 17;

class LapicTimerTest : public ::testing::Test {
 protected:
  LapicTimerTest() : apic({.apic_id = 0, .bsp = true}, timers, &router, nullptr, &tsc) {
    write_reg(apic, kSvr, 0x1ff);
  }
  uint32_t reg(uint16_t offset) { return static_cast<uint32_t>(read_reg(apic, offset)); }
  bool irr(uint8_t v) { return (reg(kIrr + 16 * (v >> 5)) >> (v & 31)) & 1; }
  int run_at(uint64_t ns) {
    clock.set(ns);
    return timers.run_due();
  }

  ManualClock clock;
  TimerQueue timers{clock};
  RecordingRouter router;
  FakeTsc tsc{clock};
  Lapic apic;  // 1 GHz timer clock
};

TEST_F(LapicTimerTest, OneShotCountsDownAndInterruptsOnce) {
  write_reg(apic, kLvtTimer, 0x30);
  write_reg(apic, kTimerDivide, 0x3);  // divide by 16
  write_reg(apic, kTimerInitialCount, 1000);
  EXPECT_EQ(reg(kTimerCurrentCount), 1000u);
  clock.set(8000);
  EXPECT_EQ(reg(kTimerCurrentCount), 500u);
  EXPECT_EQ(run_at(15999), 0);
  EXPECT_EQ(reg(kTimerCurrentCount), 1u);
  EXPECT_FALSE(irr(0x30));
  EXPECT_EQ(run_at(16000), 1);
  EXPECT_TRUE(irr(0x30));
  EXPECT_EQ(reg(kTimerCurrentCount), 0u);
  EXPECT_EQ(run_at(100000), 0);
  EXPECT_EQ(apic.metrics().timer_expirations, 1u);
  EXPECT_EQ(reg(kTimerInitialCount), 1000u);
}

TEST_F(LapicTimerTest, PeriodicReloadsFromTheInitialCount) {
  write_reg(apic, kLvtTimer, kPeriodic | 0x31);
  write_reg(apic, kTimerDivide, 0xb);  // divide by 1
  write_reg(apic, kTimerInitialCount, 100);
  EXPECT_EQ(run_at(1050), 10);
  EXPECT_EQ(reg(kTimerCurrentCount), 50u);
  EXPECT_TRUE(irr(0x31));
  EXPECT_EQ(apic.acknowledge(), 0x31);  // the ten expiries coalesced in IRR
  write_reg(apic, kEoi, 0);
  EXPECT_EQ(run_at(1100), 1);
  EXPECT_TRUE(irr(0x31));
  write_reg(apic, kTimerInitialCount, 0);  // stops the timer
  EXPECT_EQ(run_at(5000), 0);
  EXPECT_EQ(reg(kTimerCurrentCount), 0u);
}

// Linux's calibrate_APIC_clock: a masked periodic timer from 0xffffffff, divide by 16, read
// back after a known interval measured on another clock.
TEST_F(LapicTimerTest, LinuxCalibrationMeasuresTheTimerFrequency) {
  write_reg(apic, kLvtTimer, kPeriodic | kLvtMasked | 0xef);
  write_reg(apic, kTimerDivide, 0x3);
  write_reg(apic, kTimerInitialCount, 0xffffffff);
  EXPECT_EQ(run_at(100'000'000), 0);  // 100 ms
  const uint32_t delta = 0xffffffff - reg(kTimerCurrentCount);
  EXPECT_EQ(delta, 100'000'000u / 16);  // 1 GHz / 16 over 100 ms
  EXPECT_FALSE(irr(0xef));
}

TEST_F(LapicTimerTest, MaskedTimerStillExpires) {
  write_reg(apic, kLvtTimer, kLvtMasked | 0x32);
  write_reg(apic, kTimerDivide, 0xb);
  write_reg(apic, kTimerInitialCount, 10);
  EXPECT_EQ(run_at(10), 1);
  EXPECT_FALSE(irr(0x32));
  EXPECT_EQ(reg(kTimerCurrentCount), 0u);
}

TEST_F(LapicTimerTest, DivideChangeContinuesFromTheCurrentCount) {
  write_reg(apic, kLvtTimer, 0x33);
  write_reg(apic, kTimerDivide, 0xb);  // by 1
  write_reg(apic, kTimerInitialCount, 1000);
  clock.set(400);
  EXPECT_EQ(reg(kTimerCurrentCount), 600u);
  write_reg(apic, kTimerDivide, 0x0);  // by 2: 600 ticks left take 1200 ns
  EXPECT_EQ(reg(kTimerCurrentCount), 600u);
  EXPECT_EQ(run_at(1599), 0);
  EXPECT_EQ(reg(kTimerCurrentCount), 1u);
  EXPECT_EQ(run_at(1600), 1);
  EXPECT_TRUE(irr(0x33));
}

TEST_F(LapicTimerTest, TscDeadlineFiresWhenTheTscReachesTheDeadline) {
  write_reg(apic, kLvtTimer, kTscDeadlineMode | 0x40);
  const uint64_t deadline = tsc.tsc() + 3000;  // 1000 ns at 3 GHz
  ASSERT_TRUE(apic.write_msr(0x6e0, deadline).ok);
  EXPECT_EQ(apic.read_msr(0x6e0).value, deadline);
  EXPECT_EQ(run_at(999), 0);
  EXPECT_EQ(run_at(1000), 1);
  EXPECT_GE(tsc.tsc(), deadline);
  EXPECT_TRUE(irr(0x40));
  EXPECT_EQ(apic.read_msr(0x6e0).value, 0u);  // cleared when it fires
  // A deadline already past fires at once; zero disarms.
  ASSERT_TRUE(apic.write_msr(0x6e0, 1).ok);
  EXPECT_EQ(timers.run_due(), 1);
  ASSERT_TRUE(apic.write_msr(0x6e0, tsc.tsc() + 30).ok);
  ASSERT_TRUE(apic.write_msr(0x6e0, 0).ok);
  EXPECT_EQ(run_at(2000), 0);
  // The count registers do nothing in this mode.
  write_reg(apic, kTimerInitialCount, 100);
  EXPECT_EQ(reg(kTimerInitialCount), 0u);
  EXPECT_EQ(reg(kTimerCurrentCount), 0u);
}

TEST_F(LapicTimerTest, LeavingTscDeadlineModeDisarms) {
  write_reg(apic, kLvtTimer, kTscDeadlineMode | 0x41);
  ASSERT_TRUE(apic.write_msr(0x6e0, tsc.tsc() + 3000).ok);
  write_reg(apic, kLvtTimer, 0x41);  // one-shot
  EXPECT_EQ(apic.read_msr(0x6e0).value, 0u);
  ASSERT_TRUE(apic.write_msr(0x6e0, tsc.tsc() + 3).ok);  // ignored outside the mode
  EXPECT_EQ(apic.read_msr(0x6e0).value, 0u);
  EXPECT_EQ(run_at(10000), 0);
  EXPECT_FALSE(irr(0x41));
  // Entering the mode stops a running counter too.
  write_reg(apic, kTimerInitialCount, 100);
  write_reg(apic, kLvtTimer, kTscDeadlineMode | 0x41);
  EXPECT_EQ(run_at(20000), 0);
  EXPECT_EQ(reg(kTimerInitialCount), 0u);
}

}  // namespace
}  // namespace cella::devices
