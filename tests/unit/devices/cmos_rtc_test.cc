#include "devices/rtc/cmos_rtc.h"

#include <gtest/gtest.h>

#include "devices/rtc/civil_time.h"
#include "devices/rtc/cmos_rtc_registers.h"
#include "tests/unit/devices/device_test_support.h"

namespace cella::devices {
namespace {

using namespace rtc;
using testing::inb;
using testing::outb;

constexpr uint64_t kSecond = 1'000'000'000;
// Saturday 2026-11-21 16:50:07 UTC, a quarter of a second into the second.
const uint64_t kEpoch =
    static_cast<uint64_t>(seconds_from_civil({2026, 11, 21, 16, 50, 7, 0})) * kSecond + 250'000'000;

struct RtcTest : ::testing::Test {
  ManualClock clock{kEpoch};
  TimerQueue timers{clock};
  testing::RecordingSink sink;
  CmosRtc rtc{timers, IrqLine(sink, CmosRtc::kIrq)};

  uint8_t cmos(uint8_t index) {
    outb(rtc, 0, index);
    return inb(rtc, 1);
  }
  void set_cmos(uint8_t index, uint8_t value) {
    outb(rtc, 0, index);
    outb(rtc, 1, value);
  }
  void advance(uint64_t ns) {
    clock.advance(ns);
    timers.run_due();
  }
  bool irq() const { return sink.level(CmosRtc::kIrq); }
};

TEST(CivilTime, RoundTripsAndKnownDates) {
  EXPECT_EQ(seconds_from_civil({1970, 1, 1, 0, 0, 0, 0}), 0);
  EXPECT_EQ(seconds_from_civil({2000, 3, 1, 0, 0, 0, 0}), 951868800);
  const CivilTime leap = civil_from_seconds(seconds_from_civil({2024, 2, 29, 23, 59, 59, 0}));
  EXPECT_EQ(leap.month, 2);
  EXPECT_EQ(leap.day, 29);
  EXPECT_EQ(leap.weekday, 4);  // a Thursday
  EXPECT_EQ(civil_from_seconds(-1).year, 1969);
  EXPECT_EQ(seconds_from_civil({2026, 13, 1, 0, 0, 0, 0}),
            seconds_from_civil({2027, 1, 1, 0, 0, 0, 0}));
  for (int64_t s = -5'000'000'000; s < 8'000'000'000; s += 86'399 * 997) {
    EXPECT_EQ(seconds_from_civil(civil_from_seconds(s)), s);
  }
}

// What Linux's mc146818_get_time() reads, in the default BCD, 24-hour mode.
TEST_F(RtcTest, ReadsTheWallTimeInBcd) {
  EXPECT_EQ(cmos(kRegisterA) & 0x7f, 0x26);
  EXPECT_EQ(cmos(kRegisterB), kB24Hour);
  EXPECT_EQ(cmos(kRegisterD), kDValid);
  EXPECT_EQ(cmos(kSeconds), 0x07);
  EXPECT_EQ(cmos(kMinutes), 0x50);
  EXPECT_EQ(cmos(kHours), 0x16);
  EXPECT_EQ(cmos(kWeekday), 7);  // Saturday
  EXPECT_EQ(cmos(kDay), 0x21);
  EXPECT_EQ(cmos(kMonth), 0x11);
  EXPECT_EQ(cmos(kYear), 0x26);
  EXPECT_EQ(cmos(kCentury), 0x20);
  advance(53 * kSecond);
  EXPECT_EQ(cmos(kSeconds), 0x00);
  EXPECT_EQ(cmos(kMinutes), 0x51);
}

TEST_F(RtcTest, BinaryAnd12HourModes) {
  set_cmos(kRegisterB, kBBinary);
  EXPECT_EQ(cmos(kHours), kHourPm | 4);
  EXPECT_EQ(cmos(kMinutes), 50);
  EXPECT_EQ(cmos(kYear), 26);
  set_cmos(kRegisterB, 0);  // BCD, 12-hour
  EXPECT_EQ(cmos(kHours), kHourPm | 0x04);
  set_cmos(kHours, 0x12);  // 12 AM is midnight
  set_cmos(kRegisterB, kB24Hour);
  EXPECT_EQ(cmos(kHours), 0x00);
}

TEST_F(RtcTest, UpdateInProgressWindow) {
  EXPECT_FALSE(cmos(kRegisterA) & kAUpdateInProgress);  // 250 ms into the second
  advance(750'000'000 - kUipLeadNs - 1);
  EXPECT_FALSE(cmos(kRegisterA) & kAUpdateInProgress);
  advance(1);
  EXPECT_TRUE(cmos(kRegisterA) & kAUpdateInProgress);
  EXPECT_EQ(cmos(kSeconds), 0x07);  // not updated yet
  advance(kUipLeadNs);
  EXPECT_TRUE(cmos(kRegisterA) & kAUpdateInProgress);
  EXPECT_EQ(cmos(kSeconds), 0x08);
  advance(kUpdateCycleNs);
  EXPECT_FALSE(cmos(kRegisterA) & kAUpdateInProgress);
}

// Linux's mc146818_set_time(): SET, write the fields, clear SET.
TEST_F(RtcTest, SettingTheTimeWithTheSetBit) {
  set_cmos(kRegisterB, kBSet | kB24Hour);
  set_cmos(kSeconds, 0x58);
  set_cmos(kMinutes, 0x59);
  set_cmos(kHours, 0x23);
  set_cmos(kDay, 0x31);
  set_cmos(kMonth, 0x12);
  set_cmos(kYear, 0x99);
  set_cmos(kCentury, 0x19);
  advance(10 * kSecond);  // halted: no time passes
  EXPECT_EQ(cmos(kSeconds), 0x58);
  set_cmos(kRegisterB, kB24Hour);
  advance(2 * kSecond);
  EXPECT_EQ(cmos(kSeconds), 0x00);
  EXPECT_EQ(cmos(kYear), 0x00);
  EXPECT_EQ(cmos(kCentury), 0x20);
  EXPECT_EQ(cmos(kMonth), 0x01);
  EXPECT_EQ(rtc.metrics().time_sets, 7u);
}

TEST_F(RtcTest, PeriodicInterruptAt1024Hz) {
  set_cmos(kRegisterB, kB24Hour | kBPeriodicEnable);
  ASSERT_TRUE(timers.next_deadline_ns().has_value());
  // 250 ms is a multiple of the 976.5625 us period: the next tick is one period away.
  EXPECT_EQ(*timers.next_deadline_ns(), 976'563u);
  advance(976'562);
  EXPECT_FALSE(irq());
  advance(1);
  EXPECT_TRUE(irq());
  EXPECT_FALSE(timers.next_deadline_ns().has_value());  // nothing to do until C is read
  EXPECT_EQ(cmos(kRegisterC), kCInterruptRequest | kCPeriodic);
  EXPECT_FALSE(irq());
  EXPECT_EQ(cmos(kRegisterC), 0);
  for (int i = 0; i < 1024; ++i) {
    advance(*timers.next_deadline_ns() - clock.now_ns());
    EXPECT_EQ(cmos(kRegisterC) & kCPeriodic, kCPeriodic);
  }
  EXPECT_EQ(rtc.metrics().interrupts, 1025u);
}

TEST_F(RtcTest, FlagsAccrueWithoutInterruptEnables) {
  advance(kSecond);
  EXPECT_FALSE(irq());
  EXPECT_FALSE(timers.next_deadline_ns().has_value());
  EXPECT_EQ(cmos(kRegisterC), kCPeriodic | kCUpdateEnded);  // no IRQF: not enabled
}

TEST_F(RtcTest, UpdateEndedAndAlarmInterrupts) {
  set_cmos(kRegisterB, kB24Hour | kBUpdateEndedEnable);
  advance(750'000'000);
  EXPECT_TRUE(irq());
  EXPECT_EQ(cmos(kRegisterC) & ~kCPeriodic, kCInterruptRequest | kCUpdateEnded);
  // Alarm at 16:51:00, hours "don't care".
  set_cmos(kSecondsAlarm, 0x00);
  set_cmos(kMinutesAlarm, 0x51);
  set_cmos(kHoursAlarm, 0xff);
  set_cmos(kRegisterB, kB24Hour | kBAlarmEnable);
  EXPECT_EQ(*timers.next_deadline_ns(), clock.now_ns() + 52 * kSecond);  // from 16:50:08
  advance(51 * kSecond);
  EXPECT_FALSE(irq());
  advance(kSecond);
  EXPECT_TRUE(irq());
  EXPECT_EQ(cmos(kRegisterC) & (kCInterruptRequest | kCAlarm), kCInterruptRequest | kCAlarm);
  // Next match: 17:51:00.
  EXPECT_EQ(*timers.next_deadline_ns(), clock.now_ns() + 3600 * kSecond);
}

TEST_F(RtcTest, DividerResetStopsTheClockAndRestartsHalfASecondLater) {
  set_cmos(kRegisterA, 0x70);
  advance(5 * kSecond);
  EXPECT_EQ(cmos(kSeconds), 0x07);
  EXPECT_FALSE(cmos(kRegisterA) & kAUpdateInProgress);
  set_cmos(kRegisterA, 0x26);
  advance(499'000'000);
  EXPECT_EQ(cmos(kSeconds), 0x07);
  advance(1'000'000);
  EXPECT_EQ(cmos(kSeconds), 0x08);
}

TEST_F(RtcTest, IndexPortNmiMaskAndCmosMemory) {
  outb(rtc, 0, 0x80 | 0x40);
  EXPECT_TRUE(rtc.nmi_disabled());
  outb(rtc, 1, 0x5a);
  outb(rtc, 0, 0x40);
  EXPECT_FALSE(rtc.nmi_disabled());
  EXPECT_EQ(inb(rtc, 1), 0x5a);
  EXPECT_EQ(inb(rtc, 0), 0xff);  // the index port is write-only
  rtc.set_memory_size(3ull << 30, 5ull << 30);
  EXPECT_EQ(cmos(0x15) | cmos(0x16) << 8, 640);
  EXPECT_EQ(cmos(0x17) | cmos(0x18) << 8, 0xffff);
  EXPECT_EQ(cmos(0x34) | cmos(0x35) << 8, ((3ull << 30) - (16 << 20)) >> 16);
  EXPECT_EQ(cmos(0x5b) | cmos(0x5c) << 8 | cmos(0x5d) << 16, (5ull << 30) >> 16);
  unsigned sum = 0;
  for (uint8_t i = 0x10; i <= 0x2d; ++i) sum += cmos(i);
  EXPECT_EQ(cmos(0x2e) << 8 | cmos(0x2f), sum);
  rtc.set_cmos_byte(0x32, 0x99);  // the century belongs to the clock
  EXPECT_EQ(cmos(0x32), 0x20);
}

TEST_F(RtcTest, ResetKeepsTimeAndMemoryButClearsEnables) {
  set_cmos(0x50, 0x77);
  set_cmos(kRegisterB, kB24Hour | kBPeriodicEnable | kBBinary);
  advance(kSecond);
  EXPECT_TRUE(irq());
  rtc.reset();
  EXPECT_FALSE(irq());
  EXPECT_EQ(cmos(kRegisterB), kB24Hour | kBBinary);
  EXPECT_EQ(cmos(0x50), 0x77);
  EXPECT_EQ(cmos(kSeconds), 8);
}

TEST_F(RtcTest, SnapshotRoundTripKeepsTheGuestsOffsetFromRealTime) {
  set_cmos(kRegisterB, kBSet | kB24Hour);
  set_cmos(kYear, 0x30);  // the guest lives in 2030
  set_cmos(kRegisterB, kB24Hour | kBUpdateEndedEnable);
  set_cmos(0x40, 0xab);
  outb(rtc, 0, 0x80 | kSeconds);

  ManualClock later(kEpoch + 3600 * kSecond);  // restored an hour later
  TimerQueue timers2(later);
  testing::RecordingSink sink2;
  CmosRtc copy(timers2, IrqLine(sink2, 8));
  testing::round_trip(rtc, copy);
  EXPECT_TRUE(copy.nmi_disabled());
  outb(copy, 0, kYear);
  EXPECT_EQ(inb(copy, 1), 0x30);
  outb(copy, 0, kMinutes);
  EXPECT_EQ(inb(copy, 1), 0x50);  // 17:50 on the host: the guest's clock kept its offset
  outb(copy, 0, kHours);
  EXPECT_EQ(inb(copy, 1), 0x17);
  outb(copy, 0, 0x40);
  EXPECT_EQ(inb(copy, 1), 0xab);
  // The hour that passed ended updates: the flag is set and IRQ 8 asserted.
  EXPECT_TRUE(sink2.level(8) || timers2.next_deadline_ns().has_value());
}

}  // namespace
}  // namespace cella::devices
