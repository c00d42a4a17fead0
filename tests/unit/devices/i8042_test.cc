#include "devices/i8042/i8042.h"

#include <gtest/gtest.h>

#include <vector>

#include "devices/i8042/port92.h"
#include "tests/unit/devices/device_test_support.h"

namespace cella::devices {
namespace {

using testing::inb;
using testing::outb;

constexpr uint64_t kData = I8042::kDataOffset;
constexpr uint64_t kCommand = I8042::kCommandOffset;
constexpr uint8_t kOutputFull = 0x01, kAuxData = 0x20, kTimeout = 0x40;

struct I8042Test : ::testing::Test {
  testing::RecordingSink sink;
  I8042 kbc{IrqLine(sink, I8042::kKeyboardIrq), IrqLine(sink, I8042::kAuxIrq)};
  SystemControlPortA port92{kbc};
  int resets = 0;
  std::vector<bool> a20;

  I8042Test() {
    kbc.set_on_reset([this] { ++resets; });
    kbc.set_on_a20([this](bool on) { a20.push_back(on); });
  }
  // Linux's i8042_command(): write the command, then read the response when OBF is set.
  uint8_t command(uint8_t code) {
    outb(kbc, kCommand, code);
    EXPECT_TRUE(inb(kbc, kCommand) & kOutputFull);
    return inb(kbc, kData);
  }
};

// i8042_controller_check(), i8042_controller_selftest(), i8042_controller_init().
TEST_F(I8042Test, LinuxControllerProbe) {
  EXPECT_EQ(inb(kbc, kCommand) & kOutputFull, 0);  // nothing to flush
  EXPECT_EQ(command(0xaa), 0x55);
  const uint8_t ctr = command(0x20);
  EXPECT_EQ(ctr, 0x45);
  EXPECT_TRUE(inb(kbc, kCommand) & 0x04);  // system flag
  outb(kbc, kCommand, 0x60);
  outb(kbc, kData, static_cast<uint8_t>((ctr | 0x30) & ~0x03));  // both ports off, no IRQs
  EXPECT_EQ(command(0x20), 0x74);
  EXPECT_EQ(command(0xab), 0x00);  // keyboard port test
  outb(kbc, kCommand, 0xae);
  EXPECT_EQ(command(0x20), 0x64);
  outb(kbc, kCommand, 0xad);
  EXPECT_EQ(command(0x20), 0x74);
}

// i8042_check_aux(): the loopback, the bit assignment test, and IRQ 12 delivery.
TEST_F(I8042Test, AuxLoopbackAndIrq12) {
  outb(kbc, kCommand, 0x60);
  outb(kbc, kData, 0x30);  // ports disabled, interrupts off
  outb(kbc, kCommand, 0xd3);
  outb(kbc, kData, 0x5a);
  EXPECT_EQ(inb(kbc, kCommand) & (kOutputFull | kAuxData), kOutputFull | kAuxData);
  EXPECT_FALSE(sink.level(12));
  EXPECT_EQ(inb(kbc, kData), 0x5a);
  outb(kbc, kCommand, 0xa7);
  EXPECT_TRUE(command(0x20) & 0x20);
  outb(kbc, kCommand, 0xa8);
  EXPECT_FALSE(command(0x20) & 0x20);
  outb(kbc, kCommand, 0x60);
  outb(kbc, kData, 0x02);  // aux interrupt on
  outb(kbc, kCommand, 0xd3);
  outb(kbc, kData, 0xa5);
  EXPECT_TRUE(sink.level(12));
  EXPECT_FALSE(sink.level(1));
  EXPECT_EQ(inb(kbc, kData), 0xa5);
  EXPECT_FALSE(sink.level(12));
  EXPECT_EQ(command(0xa9), 0x00);  // aux interface test
}

TEST_F(I8042Test, AbsentDevicesAnswerWithTimeout) {
  outb(kbc, kData, 0xf2);  // keyboard GET ID
  EXPECT_EQ(inb(kbc, kCommand) & (kOutputFull | kTimeout | kAuxData), kOutputFull | kTimeout);
  EXPECT_TRUE(sink.level(1));
  EXPECT_EQ(inb(kbc, kData), 0xfe);
  EXPECT_EQ(inb(kbc, kCommand) & (kOutputFull | kTimeout), 0);
  outb(kbc, kCommand, 0xd4);
  outb(kbc, kData, 0xff);  // mouse reset
  EXPECT_EQ(inb(kbc, kCommand) & (kTimeout | kAuxData), kTimeout | kAuxData);
  EXPECT_EQ(inb(kbc, kData), 0xfe);
  EXPECT_EQ(kbc.metrics().no_device, 2u);
}

TEST_F(I8042Test, EachQueuedByteIsItsOwnInterrupt) {
  outb(kbc, kCommand, 0xd2);
  outb(kbc, kData, 0x1c);
  outb(kbc, kCommand, 0xd2);
  outb(kbc, kData, 0x9c);
  EXPECT_EQ(sink.edges(1), 1);
  EXPECT_EQ(inb(kbc, kData), 0x1c);
  EXPECT_EQ(sink.edges(1), 2);
  EXPECT_EQ(inb(kbc, kData), 0x9c);
  EXPECT_FALSE(sink.level(1));
  for (int i = 0; i < 40; ++i) outb(kbc, kCommand, 0xaa);  // bounded queue
  int count = 0;
  while (inb(kbc, kCommand) & kOutputFull) {
    inb(kbc, kData);
    ++count;
  }
  EXPECT_EQ(count, 16);
}

// What `reboot` does on a PC: the 0xFE pulse (Linux's reboot=kbd), or through the output port.
TEST_F(I8042Test, ResetLine) {
  outb(kbc, kCommand, 0xfe);
  EXPECT_EQ(resets, 1);
  outb(kbc, kCommand, 0xff);  // pulses nothing
  EXPECT_EQ(resets, 1);
  outb(kbc, kCommand, 0xd1);
  outb(kbc, kData, 0x02);  // output port with bit 0 low
  EXPECT_EQ(resets, 2);
  EXPECT_EQ(command(0xd0) & 0x01, 0x01);  // the reset line is back high
  outb(port92, 0, 0x01);
  EXPECT_EQ(resets, 3);
  outb(port92, 0, 0x01);  // no new 0->1 transition
  EXPECT_EQ(resets, 3);
  EXPECT_EQ(kbc.metrics().resets, 3u);
}

TEST_F(I8042Test, A20GateFromTheOutputPortAndPort92) {
  EXPECT_TRUE(kbc.a20_enabled());
  outb(kbc, kCommand, 0xdd);
  EXPECT_FALSE(kbc.a20_enabled());
  EXPECT_EQ(command(0xd0) & 0x02, 0);
  outb(port92, 0, 0x02);
  EXPECT_TRUE(kbc.a20_enabled());
  EXPECT_EQ(inb(port92, 0), 0x02);
  outb(kbc, kCommand, 0xd1);
  outb(kbc, kData, 0x03);  // A20 on through the output port too: no change seen
  outb(port92, 0, 0x00);
  EXPECT_TRUE(kbc.a20_enabled());
  EXPECT_EQ(a20, (std::vector<bool>{false, true}));
  EXPECT_EQ(resets, 0);
}

TEST_F(I8042Test, SnapshotRoundTrip) {
  outb(kbc, kCommand, 0x61);
  outb(kbc, kData, 0x99);  // controller RAM byte 1
  outb(kbc, kCommand, 0x60);
  outb(kbc, kData, 0x47);
  outb(kbc, kCommand, 0xd3);
  outb(kbc, kData, 0x11);
  outb(kbc, kCommand, 0xdd);
  outb(port92, 0, 0x02);
  outb(kbc, kCommand, 0xd1);  // the data byte comes after the restore

  testing::RecordingSink sink2;
  I8042 copy(IrqLine(sink2, 1), IrqLine(sink2, 12));
  SystemControlPortA port92_copy(copy);
  testing::round_trip(kbc, copy);
  testing::round_trip(port92, port92_copy);
  EXPECT_TRUE(sink2.level(12));
  EXPECT_TRUE(copy.a20_enabled());
  EXPECT_EQ(inb(copy, kCommand) & (kAuxData | 0x08), kAuxData | 0x08);
  int copy_resets = 0;
  copy.set_on_reset([&] { ++copy_resets; });
  outb(copy, kData, 0x00);  // completes 0xd1: output port with reset low
  EXPECT_EQ(copy_resets, 1);
  EXPECT_EQ(inb(copy, kData), 0x11);
  outb(copy, kCommand, 0x21);
  EXPECT_EQ(inb(copy, kData), 0x99);
  EXPECT_EQ(inb(port92_copy, 0), 0x02);
}

}  // namespace
}  // namespace cella::devices
