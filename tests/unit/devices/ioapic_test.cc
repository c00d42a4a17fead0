// The 82093AA IOAPIC through IOREGSEL/IOWIN: identification, redirection entries, edge and
// level delivery with remote IRR, and the path through the APIC bus to a local APIC and back.
#include "devices/ioapic/ioapic.h"

#include <gtest/gtest.h>

#include "devices/lapic/lapic.h"
#include "tests/support/device_access.h"
#include "tests/unit/devices/apic_fakes.h"

namespace cella::devices {
namespace {

using cella::testing::read_reg;
using cella::testing::write_reg;

uint32_t read_indirect(Ioapic& io, uint8_t index) {
  write_reg(io, 0x00, index);
  return static_cast<uint32_t>(read_reg(io, 0x10));
}
void write_indirect(Ioapic& io, uint8_t index, uint32_t value) {
  write_reg(io, 0x00, index);
  write_reg(io, 0x10, value);
}
// Programs pin `pin`'s entry as Linux does: high half (destination) first, then the low half.
void program(Ioapic& io, unsigned pin, uint32_t low, uint8_t destination = 0) {
  write_indirect(io, static_cast<uint8_t>(0x11 + 2 * pin), uint32_t{destination} << 24);
  write_indirect(io, static_cast<uint8_t>(0x10 + 2 * pin), low);
}

constexpr uint32_t kLevel = 1u << 15;
constexpr uint32_t kMask = 1u << 16;
constexpr uint32_t kRemoteIrr = 1u << 14;

TEST(Ioapic, IdentificationRegisters) {
  RecordingRouter router;
  Ioapic io(&router, 2);
  EXPECT_EQ(read_indirect(io, 0x00), 2u << 24);
  EXPECT_EQ(read_indirect(io, 0x01), 0x00170011u);  // 24 entries, version 0x11
  EXPECT_EQ(read_indirect(io, 0x02), 2u << 24);
  write_indirect(io, 0x00, 0xffffffff);
  EXPECT_EQ(read_indirect(io, 0x00), 0x0f000000u);  // 4-bit ID
  write_indirect(io, 0x01, 0);
  EXPECT_EQ(read_indirect(io, 0x01), 0x00170011u);  // read-only
  for (unsigned pin = 0; pin < Ioapic::kPins; ++pin) {
    EXPECT_EQ(read_indirect(io, static_cast<uint8_t>(0x10 + 2 * pin)), kMask) << pin;
  }
  EXPECT_EQ(read_indirect(io, 0x40), 0u);   // past the table
  EXPECT_EQ(read_reg(io, 0x00, 1), 0x40u);  // IOREGSEL reads back
  EXPECT_EQ(read_reg(io, 0x20), 0xffffffffu);
}

TEST(Ioapic, RedirectionEntriesKeepOnlyTheirWritableBits) {
  RecordingRouter router;
  Ioapic io(&router);
  write_indirect(io, 0x10, 0xffffffff);
  write_indirect(io, 0x11, 0xffffffff);
  // Delivery status (12), remote IRR (14) and bits 17-55 are not the guest's.
  EXPECT_EQ(read_indirect(io, 0x10), 0x0001afffu);
  EXPECT_EQ(read_indirect(io, 0x11), 0xff000000u);
  // IOWIN takes narrow writes into the selected register.
  write_reg(io, 0x00, 0x12);
  write_reg(io, 0x10, 0x0000ab00, 4);
  write_reg(io, 0x10, 0x34, 1);
  EXPECT_EQ(read_indirect(io, 0x12), 0x0000ab34u);
  EXPECT_EQ(read_reg(io, 0x11, 1), 0xabu);
}

TEST(Ioapic, EdgeTriggeredPinsSendOnRisingEdges) {
  RecordingRouter router;
  Ioapic io(&router);
  program(io, 4, 0x0934, 0x05);  // lowest priority, logical destination 5, vector 0x34
  io.set_pin(4, true);
  io.set_pin(4, true);  // still high: no edge
  io.set_pin(4, false);
  ASSERT_EQ(router.messages.size(), 1u);
  const ApicMessage& m = router.messages[0];
  EXPECT_EQ(m.vector, 0x34);
  EXPECT_EQ(m.mode, DeliveryMode::kLowestPriority);
  EXPECT_TRUE(m.logical);
  EXPECT_FALSE(m.level_triggered);
  EXPECT_EQ(m.destination, 5u);
  EXPECT_EQ(m.source, nullptr);
  program(io, 4, kMask | 0x34);
  io.set_pin(4, true);  // masked edges are lost (datasheet 3.2.4, bit 16)
  io.set_pin(4, false);
  program(io, 4, 0x34);
  EXPECT_EQ(router.messages.size(), 1u);
  EXPECT_EQ(io.metrics().edges_masked, 1u);
}

TEST(Ioapic, LevelTriggeredPinsUseRemoteIrr) {
  RecordingRouter router;
  Ioapic io(&router);
  program(io, 10, kLevel | 0x3a);
  io.set_pin(10, true);
  ASSERT_EQ(router.messages.size(), 1u);
  EXPECT_TRUE(router.messages[0].level_triggered);
  EXPECT_EQ(read_indirect(io, 0x24) & kRemoteIrr, kRemoteIrr);
  io.set_pin(10, true);
  EXPECT_EQ(router.messages.size(), 1u);  // accepted, not yet EOIed
  io.end_of_interrupt(0x3b);              // another vector: no effect
  EXPECT_EQ(router.messages.size(), 1u);
  io.end_of_interrupt(0x3a);  // still asserted: sent again
  EXPECT_EQ(router.messages.size(), 2u);
  io.set_pin(10, false);
  io.end_of_interrupt(0x3a);
  EXPECT_EQ(read_indirect(io, 0x24) & kRemoteIrr, 0u);
  EXPECT_EQ(router.messages.size(), 2u);
  EXPECT_EQ(io.metrics().eois_matched, 2u);
}

TEST(Ioapic, UnmaskingAnAssertedLevelPinSendsIt) {
  RecordingRouter router;
  Ioapic io(&router);
  program(io, 16, kLevel | kMask | 0x50);
  io.set_pin(16, true);
  EXPECT_TRUE(router.messages.empty());
  program(io, 16, kLevel | 0x50);
  EXPECT_EQ(router.messages.size(), 1u);
}

// Linux's EOI for IOAPICs older than version 0x20 (no EOI register): switch the entry to edge
// and back, which clears remote IRR.
TEST(Ioapic, SwitchingToEdgeClearsRemoteIrr) {
  RecordingRouter router;
  Ioapic io(&router);
  program(io, 11, kLevel | 0x3c);
  io.set_pin(11, true);
  ASSERT_EQ(router.messages.size(), 1u);
  program(io, 11, kMask | 0x3c);  // edge, masked
  EXPECT_EQ(read_indirect(io, 0x26) & kRemoteIrr, 0u);
  program(io, 11, kLevel | 0x3c);  // level, unmasked, still asserted
  EXPECT_EQ(router.messages.size(), 2u);
}

TEST(Ioapic, NmiAndExtIntEntriesAreEdgeTriggered) {
  RecordingRouter router;
  Ioapic io(&router);
  program(io, 0, kLevel | 0x700);  // ExtINT (virtual wire mode B)
  io.set_pin(0, true);
  io.set_pin(0, true);
  ASSERT_EQ(router.messages.size(), 1u);
  EXPECT_EQ(router.messages[0].mode, DeliveryMode::kExtInt);
  EXPECT_FALSE(router.messages[0].level_triggered);
  EXPECT_EQ(read_indirect(io, 0x10) & kRemoteIrr, 0u);
}

TEST(Ioapic, ThroughTheApicBusToALocalApicAndBack) {
  ManualClock clock;
  TimerQueue timers(clock);
  ApicBus bus;
  Ioapic io(&bus);
  Lapic cpu0({.apic_id = 0, .bsp = true}, timers, &bus);
  Lapic cpu1({.apic_id = 1}, timers, &bus);
  bus.attach(cpu0);
  bus.attach(cpu1);
  bus.attach(io);
  write_reg(cpu0, 0x0f0, 0x1ff);
  write_reg(cpu1, 0x0f0, 0x1ff);
  program(io, 19, kLevel | 0x61, 1);  // physical destination APIC 1
  io.set_pin(19, true);
  EXPECT_FALSE(cpu0.has_interrupt());
  ASSERT_TRUE(cpu1.has_interrupt());
  EXPECT_EQ(cpu1.acknowledge(), 0x61);
  io.set_pin(19, false);  // the handler quiets the device, then EOIs
  write_reg(cpu1, 0x0b0, 0);
  EXPECT_EQ(read_indirect(io, 0x10 + 2 * 19) & kRemoteIrr, 0u);
  io.set_pin(19, true);  // the next interrupt gets through
  EXPECT_TRUE(cpu1.has_interrupt());
}

// Virtual wire mode B: the 8259's INTR on IOAPIC input 0 as ExtINT; the local APIC then takes
// the vector from the 8259 even with its own LINT0 masked.
TEST(Ioapic, ExtIntEntryLetsTheLocalApicAcknowledgeThe8259) {
  ManualClock clock;
  TimerQueue timers(clock);
  ApicBus bus;
  FakePic pic;
  Ioapic io(&bus);
  Lapic cpu({.apic_id = 0, .bsp = true}, timers, &bus, &pic);
  bus.attach(cpu);
  write_reg(cpu, 0x0f0, 0x1ff);
  program(io, 0, 0x700);  // ExtINT, physical destination 0
  pic.output = true;
  pic.vector = 0x30;
  EXPECT_FALSE(cpu.has_interrupt());
  io.set_pin(0, true);
  ASSERT_TRUE(cpu.has_interrupt());
  EXPECT_EQ(cpu.acknowledge(), 0x30);
  EXPECT_EQ(pic.acknowledged, 1);
  pic.output = true;
  EXPECT_FALSE(cpu.has_interrupt());  // one message, one acknowledge
}

TEST(Ioapic, SnapshotRoundTrip) {
  RecordingRouter router;
  Ioapic io(&router, 1);
  program(io, 3, kLevel | 0x43, 2);
  program(io, 5, 0x45);
  io.set_pin(3, true);
  write_reg(io, 0x00, 0x17);
  snapshot::StateWriter out;
  io.save(out);

  RecordingRouter router2;
  Ioapic restored(&router2);
  snapshot::StateReader in(out.data());
  ASSERT_TRUE(restored.load(in).ok());
  EXPECT_EQ(read_reg(restored, 0x10), 0x02000000u);  // IOREGSEL restored: entry 3, high
  for (uint8_t index = 0; index < 0x40; ++index) {
    EXPECT_EQ(read_indirect(restored, index), read_indirect(io, index)) << int{index};
  }
  // The same behaviour follows: remote IRR is set, the EOI re-sends the asserted pin.
  restored.end_of_interrupt(0x43);
  ASSERT_EQ(router2.messages.size(), 1u);
  EXPECT_EQ(router2.messages[0].destination, 2u);
  restored.set_pin(5, true);
  EXPECT_EQ(router2.messages.size(), 2u);
  // A truncated stream is refused.
  std::vector<uint8_t> cut(out.data().begin(), out.data().end() - 3);
  snapshot::StateReader short_in(cut);
  EXPECT_FALSE(Ioapic(&router2).load(short_in).ok());
}

}  // namespace
}  // namespace cella::devices
