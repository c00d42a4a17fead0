// The legacy devices wired as on a PC: their IRQ lines drive the dual 8259A, whose INTA
// cycle yields the vectors Linux programmed.
#include <gtest/gtest.h>

#include "devices/pic8259/dual_pic.h"
#include "devices/pit8254/pit8254.h"
#include "devices/rtc/cmos_rtc.h"
#include "devices/uart16550/uart16550.h"
#include "tests/unit/devices/device_test_support.h"

namespace cella::devices {
namespace {

using testing::inb;
using testing::outb;

class PicRouter final : public InterruptSink {
 public:
  explicit PicRouter(DualPic& pic) : pic_(pic) {}
  void set_gsi(uint32_t gsi, bool level) override { pic_.set_irq(gsi, level); }

 private:
  DualPic& pic_;
};

struct WiringTest : ::testing::Test {
  ManualClock clock{1'700'000'000ull * 1'000'000'000};
  TimerQueue timers{clock};
  DualPic pic;
  PicRouter router{pic};
  Pit8254 pit{timers, IrqLine(router, Pit8254::kIrq)};
  CmosRtc rtc{timers, IrqLine(router, CmosRtc::kIrq)};

  WiringTest() {
    const uint8_t init[][2] = {{0, 0x11}, {1, 0x30}, {1, 0x04}, {1, 0x01}, {2, 0x11},
                               {3, 0x38}, {3, 0x02}, {3, 0x01}, {1, 0x00}, {3, 0x00}};
    for (const auto& [offset, value] : init) outb(pic, offset, value);
  }
};

TEST_F(WiringTest, PitTicksArriveAsVector0x30) {
  outb(pit, 3, 0x34);
  outb(pit, 0, 0xa9);
  outb(pit, 0, 0x04);  // 1193 ticks: about 1 ms
  // Mode 2 raised OUT when programmed: that edge is the first interrupt.
  ASSERT_TRUE(pic.interrupt_output());
  EXPECT_EQ(pic.acknowledge(), 0x30);
  outb(pic, 0, 0x20);
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(pic.interrupt_output());
    clock.set(*timers.next_deadline_ns());
    timers.run_due();
    ASSERT_TRUE(pic.interrupt_output());
    EXPECT_EQ(pic.acknowledge(), 0x30);
    outb(pic, 0, 0x20);
  }
}

TEST_F(WiringTest, RtcPeriodicInterruptThroughTheSlave) {
  outb(rtc, 0, 0x0b);
  outb(rtc, 1, 0x42);  // PIE, 24-hour
  clock.set(*timers.next_deadline_ns());
  timers.run_due();
  ASSERT_TRUE(pic.interrupt_output());
  EXPECT_EQ(pic.acknowledge(), 0x38);
  outb(rtc, 0, 0x0c);
  EXPECT_EQ(inb(rtc, 1), 0xc0);  // the handler reads C, which re-arms the line
  outb(pic, 2, 0x20);
  outb(pic, 0, 0x20);
  clock.set(*timers.next_deadline_ns());
  timers.run_due();
  EXPECT_EQ(pic.acknowledge(), 0x38);
}

}  // namespace
}  // namespace cella::devices
