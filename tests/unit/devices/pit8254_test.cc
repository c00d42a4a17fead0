#include "devices/pit8254/pit8254.h"

#include <gtest/gtest.h>

#include "devices/pit8254/port61.h"
#include "tests/unit/devices/device_test_support.h"

namespace cella::devices {
namespace {

using testing::inb;
using testing::outb;

constexpr uint64_t kControl = Pit8254::kControlOffset;

struct PitTest : ::testing::Test {
  ManualClock clock;
  TimerQueue timers{clock};
  testing::RecordingSink sink;
  Pit8254 pit{timers, IrqLine(sink, Pit8254::kIrq)};
  SystemControlPortB port61{timers, pit};

  // Moves time to the start of `tick` and fires what is due.
  void at_tick(uint64_t tick) {
    clock.set(pit_tick_ns(tick));
    timers.run_due();
  }
  uint16_t latched_count(unsigned channel) {
    outb(pit, kControl, static_cast<uint8_t>(channel << 6));  // counter latch command
    const uint8_t lo = inb(pit, channel);
    return static_cast<uint16_t>(lo | inb(pit, channel) << 8);
  }
  int irq0_edges() const { return sink.edges(0); }
};

TEST(PitClock, TicksAndNanosecondsAgree) {
  EXPECT_EQ(pit_tick_at(1'000'000'000), kPitHz);
  for (uint64_t tick : {1ull, 4773ull, 65536ull, 1ull << 40}) {
    EXPECT_EQ(pit_tick_at(pit_tick_ns(tick)), tick);
    EXPECT_EQ(pit_tick_at(pit_tick_ns(tick) - 1), tick - 1);
  }
}

// Linux's periodic PIT clockevent (HZ=250): mode 2, LATCH = 4773, LSB then MSB.
TEST_F(PitTest, RateGeneratorInterruptsEveryPeriod) {
  outb(pit, kControl, 0x34);
  outb(pit, 0, 4773 & 0xff);
  outb(pit, 0, 4773 >> 8);
  EXPECT_TRUE(sink.level(0));  // mode 2 sets OUT high
  const int programmed = irq0_edges();
  ASSERT_EQ(timers.next_deadline_ns(), pit_tick_ns(4773));
  at_tick(4772);
  EXPECT_EQ(irq0_edges(), programmed);
  at_tick(4773);
  EXPECT_EQ(irq0_edges(), programmed + 1);
  EXPECT_EQ(timers.next_deadline_ns(), pit_tick_ns(2 * 4773));
  for (int i = 2; i <= 10; ++i) at_tick(i * 4773ull);
  EXPECT_EQ(irq0_edges(), programmed + 10);
  EXPECT_EQ(pit.metrics().interrupts, 10u);
  // The counter runs N..1 and reloads.
  at_tick(10 * 4773ull + 100);
  EXPECT_EQ(latched_count(0), 4773 - 100);
}

// Linux's oneshot clockevent: mode 0; exactly one interrupt, then no timer at all.
TEST_F(PitTest, InterruptOnTerminalCountFiresOnce) {
  outb(pit, kControl, 0x30);
  outb(pit, 0, 0x00);
  EXPECT_FALSE(sink.level(0));
  outb(pit, 0, 0x10);  // 0x1000
  at_tick(0x0fff);
  EXPECT_FALSE(sink.level(0));
  at_tick(0x1000);
  EXPECT_TRUE(sink.level(0));
  EXPECT_EQ(irq0_edges(), 1);
  EXPECT_FALSE(timers.next_deadline_ns().has_value());
  at_tick(0x1000 + 0x20);
  EXPECT_EQ(latched_count(0), 0xffe0);  // counts on past zero
  // Reprogramming lowers OUT again.
  outb(pit, kControl, 0x30);
  EXPECT_FALSE(sink.level(0));
}

TEST_F(PitTest, LatchedCountHoldsUntilRead) {
  outb(pit, kControl, 0x34);
  outb(pit, 0, 0);
  outb(pit, 0, 0);  // 65536
  at_tick(1000);
  outb(pit, kControl, 0x00);
  at_tick(2000);
  outb(pit, kControl, 0x00);  // a second latch before reading is ignored
  EXPECT_EQ(inb(pit, 0), (65536 - 1000) & 0xff);
  at_tick(3000);
  EXPECT_EQ(inb(pit, 0), (65536 - 1000) >> 8);
  // Unlatched reads follow the counter, LSB then MSB.
  const uint16_t live = static_cast<uint16_t>(inb(pit, 0) | inb(pit, 0) << 8);
  EXPECT_EQ(live, 65536 - 3000);
}

TEST_F(PitTest, BcdCounting) {
  outb(pit, kControl, 0xb1);  // counter 2, LSB/MSB, mode 0, BCD
  outb(pit, 2, 0x00);
  outb(pit, 2, 0x10);  // 1000 decimal
  outb(port61, 0, 0x01);
  at_tick(1);
  EXPECT_EQ(latched_count(2), 0x0999);
  at_tick(1001);
  EXPECT_EQ(latched_count(2), 0x9999);  // wraps to 9999
}

TEST_F(PitTest, ReadBackStatusAndCount) {
  outb(pit, kControl, 0x36);                   // counter 0, LSB/MSB, mode 3
  outb(pit, kControl, 0xe2);                   // read-back status of counter 0
  EXPECT_EQ(inb(pit, 0), 0x40 | 0x80 | 0x36);  // null count, OUT high, RW=3, mode 3
  outb(pit, 0, 100);
  outb(pit, 0, 0);
  outb(pit, kControl, 0xc2);  // status and count
  EXPECT_EQ(inb(pit, 0), 0x80 | 0x36);
  EXPECT_EQ(inb(pit, 0), 100);
  EXPECT_EQ(inb(pit, 0), 0);
  at_tick(60);  // second half period: OUT low
  outb(pit, kControl, 0xe2);
  EXPECT_EQ(inb(pit, 0), 0x36);
}

// Linux's quick_pit_calibrate(): gate counter 2 through port 0x61, mode 0 from 0xffff, poll
// the MSB; and pit_calibrate_tsc(), which waits for port 0x61 bit 5 (OUT2).
TEST_F(PitTest, Counter2GatedByPort61ForTscCalibration) {
  outb(port61, 0, static_cast<uint8_t>((inb(port61, 0) & ~0x02) | 0x01));
  outb(pit, kControl, 0xb0);
  outb(pit, 2, 0xff);
  outb(pit, 2, 0xff);
  EXPECT_EQ(inb(port61, 0) & 0x21, 0x01);  // OUT2 low while counting
  for (uint64_t msb = 0xff; msb > 0xf0; --msb) {
    at_tick(0xffff - (msb << 8) + 1);
    inb(pit, 2);
    EXPECT_EQ(inb(pit, 2), msb - 1);
  }
  at_tick(0xffff);
  EXPECT_EQ(inb(port61, 0) & 0x20, 0x20);
  EXPECT_FALSE(timers.next_deadline_ns().has_value());  // counter 2 needs no timer
  // Gate low suspends mode 0 counting.
  outb(pit, kControl, 0xb0);
  outb(pit, 2, 0x00);
  outb(pit, 2, 0x01);  // 256
  at_tick(0xffff + 10);
  outb(port61, 0, 0x00);
  at_tick(0xffff + 500);
  EXPECT_EQ(latched_count(2), 246);
  EXPECT_EQ(inb(port61, 0) & 0x20, 0);
  outb(port61, 0, 0x01);
  at_tick(0xffff + 500 + 246);
  EXPECT_EQ(inb(port61, 0) & 0x20, 0x20);
}

TEST_F(PitTest, RefreshToggleChanges) {
  const uint8_t first = inb(port61, 0) & 0x10;
  clock.advance(15'085);
  EXPECT_NE(inb(port61, 0) & 0x10, first);
}

TEST_F(PitTest, SquareWaveOnCounter2) {
  outb(port61, 0, 0x01);
  outb(pit, kControl, 0xb6);  // counter 2, mode 3
  outb(pit, 2, 10);
  outb(pit, 2, 0);
  std::string wave;
  for (uint64_t t = 0; t < 20; ++t) {
    at_tick(t);
    wave += (inb(port61, 0) & 0x20) ? 'H' : 'L';
  }
  EXPECT_EQ(wave, "HHHHHLLLLLHHHHHLLLLL");
  at_tick(21);
  EXPECT_EQ(latched_count(2), 8);  // decrements by two
  // Gate low forces OUT high and stops; gate high reloads.
  at_tick(27);
  outb(port61, 0, 0x00);
  EXPECT_EQ(inb(port61, 0) & 0x20, 0x20);
  outb(port61, 0, 0x01);
  at_tick(32);
  EXPECT_EQ(inb(port61, 0) & 0x20, 0);
}

TEST_F(PitTest, HardwareTriggeredOneShotAndStrobe) {
  outb(pit, kControl, 0x92);  // counter 2, LSB only, mode 1
  outb(pit, 2, 5);
  at_tick(100);
  EXPECT_EQ(inb(port61, 0) & 0x20, 0x20);  // waits for a trigger
  outb(port61, 0, 0x01);                   // rising gate: trigger
  EXPECT_EQ(inb(port61, 0) & 0x20, 0);
  at_tick(105);
  EXPECT_EQ(inb(port61, 0) & 0x20, 0x20);
  outb(port61, 0, 0x00);
  outb(pit, kControl, 0x9a);  // mode 5
  outb(pit, 2, 3);
  outb(port61, 0, 0x01);
  std::string strobe;
  for (uint64_t t = 105; t < 110; ++t) {
    at_tick(t);
    strobe += (inb(port61, 0) & 0x20) ? 'H' : 'L';
  }
  EXPECT_EQ(strobe, "HHHLH");
}

TEST_F(PitTest, SoftwareTriggeredStrobeOnIrq0) {
  outb(pit, kControl, 0x18);  // counter 0, LSB, mode 4
  outb(pit, 0, 50);
  EXPECT_TRUE(sink.level(0));
  EXPECT_EQ(timers.next_deadline_ns(), pit_tick_ns(51));
  at_tick(51);
  EXPECT_EQ(irq0_edges(), 2);  // the level after programming, then the strobe's end
  EXPECT_FALSE(timers.next_deadline_ns().has_value());
}

TEST_F(PitTest, NewCountInRateGeneratorWaitsForTheEndOfThePeriod) {
  outb(pit, kControl, 0x34);
  outb(pit, 0, 100);
  outb(pit, 0, 0);
  at_tick(30);
  outb(pit, 0, 200);
  outb(pit, 0, 0);
  EXPECT_EQ(latched_count(0), 70);
  const int before = irq0_edges();
  at_tick(100);
  EXPECT_EQ(irq0_edges(), before + 1);
  EXPECT_EQ(timers.next_deadline_ns(), pit_tick_ns(300));
  at_tick(150);
  EXPECT_EQ(latched_count(0), 150);
}

TEST_F(PitTest, FirstByteOfAModeZeroCountStopsTheCounter) {
  outb(pit, kControl, 0x30);
  outb(pit, 0, 10);
  outb(pit, 0, 0);
  at_tick(5);
  outb(pit, 0, 20);
  EXPECT_FALSE(timers.next_deadline_ns().has_value());
  at_tick(50);
  EXPECT_FALSE(sink.level(0));
  outb(pit, 0, 0);
  EXPECT_EQ(timers.next_deadline_ns(), pit_tick_ns(70));
}

TEST_F(PitTest, SnapshotRoundTripResumesMidPeriod) {
  outb(pit, kControl, 0x34);
  outb(pit, 0, 1000 & 0xff);
  outb(pit, 0, 1000 >> 8);
  outb(port61, 0, 0x01);
  outb(pit, kControl, 0xb0);
  outb(pit, 2, 0x00);
  outb(pit, 2, 0x20);
  at_tick(1300);
  outb(pit, kControl, 0x80);  // latch counter 2, read after the restore

  ManualClock clock2;
  clock2.set(pit_tick_ns(5));  // an earlier point on another time line
  TimerQueue timers2(clock2);
  testing::RecordingSink sink2;
  Pit8254 copy(timers2, IrqLine(sink2, 0));
  SystemControlPortB port61_copy(timers2, copy);
  testing::round_trip(pit, copy);
  testing::round_trip(port61, port61_copy);
  EXPECT_EQ(inb(copy, 2) | inb(copy, 2) << 8, 0x2000 - 1300);
  EXPECT_EQ(timers2.next_deadline_ns(), pit_tick_ns(5 + 700));
  clock2.set(pit_tick_ns(5 + 700));
  timers2.run_due();
  EXPECT_EQ(sink2.edges(0), 2);  // the level on restore, then the period's end
  EXPECT_EQ(inb(port61_copy, 0) & 0x01, 0x01);
  outb(copy, kControl, 0x80);
  EXPECT_EQ(inb(copy, 2) | inb(copy, 2) << 8, 0x2000 - 2000);
}

}  // namespace
}  // namespace cella::devices
