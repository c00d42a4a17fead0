#include "devices/pic8259/dual_pic.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/unit/devices/device_test_support.h"

namespace cella::devices {
namespace {

using testing::inb;
using testing::outb;

constexpr uint64_t kMasterCmd = DualPic::kMasterOffset;
constexpr uint64_t kMasterData = DualPic::kMasterOffset + 1;
constexpr uint64_t kSlaveCmd = DualPic::kSlaveOffset;
constexpr uint64_t kSlaveData = DualPic::kSlaveOffset + 1;
constexpr uint64_t kElcr1 = DualPic::kElcrOffset;
constexpr uint64_t kElcr2 = DualPic::kElcrOffset + 1;

struct PicTest : ::testing::Test {
  DualPic pic;
  std::vector<bool> changes;

  PicTest() {
    pic.set_on_output_change([this](bool level) { changes.push_back(level); });
  }

  // Linux's init_8259A(): vectors 0x30 and 0x38, slave on IR2, 8086 mode.
  void init_like_linux(bool auto_eoi = false) {
    outb(pic, kMasterData, 0xff);
    outb(pic, kSlaveData, 0xff);
    outb(pic, kMasterCmd, 0x11);
    outb(pic, kMasterData, 0x30);
    outb(pic, kMasterData, 0x04);
    outb(pic, kMasterData, auto_eoi ? 0x03 : 0x01);
    outb(pic, kSlaveCmd, 0x11);
    outb(pic, kSlaveData, 0x38);
    outb(pic, kSlaveData, 0x02);
    outb(pic, kSlaveData, 0x01);
    outb(pic, kMasterData, 0x00);
    outb(pic, kSlaveData, 0x00);
  }
  uint8_t master_isr() {
    outb(pic, kMasterCmd, 0x0b);
    const uint8_t isr = inb(pic, kMasterCmd);
    outb(pic, kMasterCmd, 0x0a);
    return isr;
  }
  uint8_t slave_isr() {
    outb(pic, kSlaveCmd, 0x0b);
    const uint8_t isr = inb(pic, kSlaveCmd);
    outb(pic, kSlaveCmd, 0x0a);
    return isr;
  }
  void pulse(unsigned line) {
    pic.set_irq(line, true);
    pic.set_irq(line, false);
  }
};

// Linux's probe_8259A(): the IMR must read back what was written.
TEST_F(PicTest, ImrReadsBackForLinuxsProbe) {
  outb(pic, kSlaveData, 0xff);
  outb(pic, kMasterData, 0xfb);
  EXPECT_EQ(inb(pic, kMasterData), 0xfb);
  EXPECT_EQ(inb(pic, kSlaveData), 0xff);
}

TEST_F(PicTest, MasterInterruptDeliveryAndSpecificEoi) {
  init_like_linux();
  EXPECT_FALSE(pic.interrupt_output());
  pulse(0);
  EXPECT_TRUE(pic.interrupt_output());
  EXPECT_EQ(inb(pic, kMasterCmd), 0x01);  // IRR
  EXPECT_EQ(pic.acknowledge(), 0x30);
  EXPECT_FALSE(pic.interrupt_output());
  EXPECT_EQ(master_isr(), 0x01);
  EXPECT_EQ(inb(pic, kMasterCmd), 0x00);  // the edge request was consumed
  outb(pic, kMasterCmd, 0x60);            // specific EOI, IR0
  EXPECT_EQ(master_isr(), 0x00);
  EXPECT_EQ(changes, (std::vector<bool>{true, false}));
  EXPECT_EQ(pic.metrics().acknowledged, 1u);
}

TEST_F(PicTest, SlaveInterruptsCascadeThroughIr2) {
  init_like_linux();
  pulse(12);
  EXPECT_TRUE(pic.interrupt_output());
  EXPECT_EQ(pic.acknowledge(), 0x3c);
  EXPECT_EQ(master_isr(), 0x04);
  EXPECT_EQ(slave_isr(), 0x10);
  // Linux's mask_and_ack_8259A: specific EOI to the slave, then to the master's IR2.
  outb(pic, kSlaveCmd, 0x64);
  outb(pic, kMasterCmd, 0x62);
  EXPECT_EQ(master_isr(), 0);
  EXPECT_EQ(slave_isr(), 0);
  EXPECT_FALSE(pic.interrupt_output());
}

TEST_F(PicTest, PriorityNestingAndNonSpecificEoi) {
  init_like_linux();
  pulse(3);
  EXPECT_EQ(pic.acknowledge(), 0x33);
  pulse(5);
  EXPECT_FALSE(pic.interrupt_output());  // IR3 in service blocks lower IR5
  pulse(1);
  EXPECT_TRUE(pic.interrupt_output());  // but not higher IR1
  EXPECT_EQ(pic.acknowledge(), 0x31);
  EXPECT_EQ(master_isr(), 0x0a);
  outb(pic, kMasterCmd, 0x20);  // non-specific EOI ends the highest: IR1
  EXPECT_EQ(master_isr(), 0x08);
  EXPECT_FALSE(pic.interrupt_output());
  outb(pic, kMasterCmd, 0x20);
  EXPECT_TRUE(pic.interrupt_output());
  EXPECT_EQ(pic.acknowledge(), 0x35);
}

TEST_F(PicTest, SpuriousIr7WhenTheRequestVanishesBeforeInta) {
  init_like_linux();
  pulse(4);
  outb(pic, kMasterData, 0x10);  // masked before the INTA cycle
  EXPECT_EQ(pic.acknowledge(), 0x37);
  EXPECT_EQ(master_isr(), 0);  // a spurious IR7 sets no ISR bit
  outb(pic, kMasterData, 0x00);
  EXPECT_EQ(pic.acknowledge(), 0x34);  // the latched request is still there once unmasked
  outb(pic, kMasterCmd, 0x20);
  // A slave request masked on the slave withdraws the master's IR2 request with it.
  pulse(9);
  outb(pic, kSlaveData, 0x02);
  EXPECT_FALSE(pic.interrupt_output());
  EXPECT_EQ(pic.acknowledge(), 0x37);
  EXPECT_EQ(master_isr(), 0);
  outb(pic, kSlaveData, 0x00);
  EXPECT_TRUE(pic.interrupt_output());
  EXPECT_EQ(pic.acknowledge(), 0x39);
  EXPECT_EQ(pic.metrics().spurious, 2u);
}

TEST_F(PicTest, LevelTriggeredInputsThroughElcr) {
  init_like_linux();
  outb(pic, kElcr1, 0xff);
  outb(pic, kElcr2, 0xff);
  EXPECT_EQ(inb(pic, kElcr1), 0xf8);  // IRQ 0, 1, 2 are always edge
  EXPECT_EQ(inb(pic, kElcr2), 0xde);  // IRQ 8 and 13 too
  pic.set_irq(10, true);
  EXPECT_EQ(pic.acknowledge(), 0x3a);
  outb(pic, kSlaveCmd, 0x20);
  outb(pic, kMasterCmd, 0x20);
  EXPECT_TRUE(pic.interrupt_output());  // still high: requests again after EOI
  pic.set_irq(10, false);
  EXPECT_FALSE(pic.interrupt_output());  // a level request goes away with its input
  EXPECT_EQ(pic.acknowledge(), 0x37);    // so an INTA now finds nothing: spurious
  // An edge input needs a new rising edge.
  pic.set_irq(1, true);
  EXPECT_EQ(pic.acknowledge(), 0x31);
  outb(pic, kMasterCmd, 0x20);
  EXPECT_FALSE(pic.interrupt_output());
}

TEST_F(PicTest, AutoEoiLeavesNothingInService) {
  init_like_linux(/*auto_eoi=*/true);
  pulse(6);
  EXPECT_EQ(pic.acknowledge(), 0x36);
  EXPECT_EQ(master_isr(), 0);
  pulse(7);
  EXPECT_TRUE(pic.interrupt_output());
}

TEST_F(PicTest, SpecialMaskModeAllowsLowerPriorities) {
  init_like_linux();
  pulse(3);
  EXPECT_EQ(pic.acknowledge(), 0x33);
  outb(pic, kMasterCmd, 0x68);  // OCW3: set special mask mode
  pulse(5);
  EXPECT_TRUE(pic.interrupt_output());
  EXPECT_EQ(pic.acknowledge(), 0x35);
  outb(pic, kMasterCmd, 0x48);  // reset special mask mode
  EXPECT_EQ(master_isr(), 0x28);
}

TEST_F(PicTest, RotationAndSetPriority) {
  init_like_linux();
  outb(pic, kMasterCmd, 0xc4);  // set priority: IR4 lowest, IR5 highest
  pulse(1);
  pulse(6);
  EXPECT_EQ(pic.acknowledge(), 0x36);
  outb(pic, kMasterCmd, 0xa0);  // rotate on non-specific EOI: IR6 becomes lowest
  EXPECT_EQ(pic.acknowledge(), 0x31);
  outb(pic, kMasterCmd, 0xe1);  // rotate on specific EOI 1: IR1 lowest, IR2 highest
  pulse(0);
  pulse(7);
  EXPECT_EQ(pic.acknowledge(), 0x37);
  outb(pic, kMasterCmd, 0x80);  // rotate in automatic EOI mode (no effect without AEOI)
  outb(pic, kMasterCmd, 0x67);
  EXPECT_EQ(pic.acknowledge(), 0x30);
}

TEST_F(PicTest, PollCommandReturnsAndAcknowledgesTheHighestRequest) {
  init_like_linux();
  outb(pic, kMasterCmd, 0x0c);
  EXPECT_EQ(inb(pic, kMasterCmd), 0x00);  // nothing pending
  pulse(5);
  outb(pic, kMasterCmd, 0x0c);
  EXPECT_EQ(inb(pic, kMasterCmd), 0x85);
  EXPECT_EQ(master_isr(), 0x20);
  EXPECT_EQ(inb(pic, kMasterData), 0x00);  // the poll is over: IMR again
}

TEST_F(PicTest, ReinitializationRequiresANewEdge) {
  init_like_linux();
  pic.set_irq(4, true);
  EXPECT_TRUE(pic.interrupt_output());
  init_like_linux();
  EXPECT_FALSE(pic.interrupt_output());
  pic.set_irq(4, false);
  pic.set_irq(4, true);
  EXPECT_EQ(pic.acknowledge(), 0x34);
}

TEST_F(PicTest, SnapshotRoundTrip) {
  init_like_linux();
  outb(pic, kElcr2, 0x04);
  outb(pic, kMasterData, 0x40);
  pulse(3);
  EXPECT_EQ(pic.acknowledge(), 0x33);
  pulse(1);
  pic.set_irq(10, true);
  outb(pic, kMasterCmd, 0xc5);

  DualPic copy;
  bool output = false;
  copy.set_on_output_change([&](bool level) { output = level; });
  testing::round_trip(pic, copy);
  EXPECT_TRUE(output);
  EXPECT_EQ(inb(copy, kMasterData), 0x40);
  EXPECT_EQ(inb(copy, kElcr2), 0x04);
  // Priority after IR5: 6, 7, 0, 1, 2 (the slave), 3...
  EXPECT_EQ(copy.acknowledge(), 0x31);
  EXPECT_FALSE(copy.interrupt_output());  // IR1 in service outranks the slave
  outb(copy, kMasterCmd, 0x61);
  EXPECT_EQ(copy.acknowledge(), 0x3a);
  copy.set_irq(10, false);
  outb(copy, kSlaveCmd, 0x20);
  outb(copy, kMasterCmd, 0x62);
  EXPECT_FALSE(copy.interrupt_output());
  outb(copy, kMasterCmd, 0x0b);
  EXPECT_EQ(inb(copy, kMasterCmd), 0x08);
}

TEST_F(PicTest, LoadRejectsAlwaysEdgeLinesMarkedLevel) {
  snapshot::StateWriter out;
  pic.save(out);
  std::vector<uint8_t> bytes = out.data();
  const size_t elcr_at = 2 + 7 + 4 + 8 + 3;  // name, version, length, IRR/ISR/IMR
  bytes[elcr_at] = 0x01;
  snapshot::StateReader in(bytes);
  DualPic copy;
  EXPECT_FALSE(copy.load(in).ok());
}

}  // namespace
}  // namespace cella::devices
