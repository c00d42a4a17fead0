// Bus 0 through the host bridge's access mechanisms: configuration mechanism #1 at
// 0xcf8/0xcfc as Linux probes it, ECAM, absent functions, multi-function devices, INTx
// routing, snapshot.
#include "pci/pci_bus.h"

#include <gtest/gtest.h>

#include <vector>

#include "pci/config_access.h"
#include "pci/host_bridge.h"
#include "tests/support/device_access.h"

namespace cella::pci {
namespace {

using cella::testing::read_reg;
using cella::testing::write_reg;

constexpr FunctionIdentity kDisk{
    .vendor_id = 0x1af4, .device_id = 0x1042, .base_class = 0x01, .subclass = 0x00};

class RecordingSink final : public devices::InterruptSink {
 public:
  void set_gsi(uint32_t gsi, bool level) override { calls.emplace_back(gsi, level); }
  std::vector<std::pair<uint32_t, bool>> calls;
};

class PciBusTest : public ::testing::Test {
 protected:
  PciBusTest() { EXPECT_TRUE(bridge.attach(bus).ok()); }
  uint32_t config_read(uint32_t address, unsigned port_offset = 4, unsigned size = 4) {
    write_reg(ports, 0, address);
    return static_cast<uint32_t>(read_reg(ports, port_offset, size));
  }

  PciBus bus;
  HostBridge bridge;
  ConfigPorts ports{bus};
  Ecam ecam{bus, 2};
};

// Linux's pci_check_type1 (arch/x86/pci/direct.c) and the first reads of bus 0.
TEST_F(PciBusTest, MechanismOneAsLinuxProbesIt) {
  write_reg(ports, 3, 0x01, 1);  // outb(0x01, 0xcfb): not CONFIG_ADDRESS
  write_reg(ports, 0, 0x80000000);
  EXPECT_EQ(read_reg(ports, 0), 0x80000000u);
  EXPECT_EQ(read_reg(ports, 0, 1), 0xffu);  // byte reads of 0xcf8 are not the register
  EXPECT_EQ(config_read(0x80000000), 0x29c08086u);
  EXPECT_EQ(config_read(0x80000008), 0x06000000u);    // host bridge class
  EXPECT_EQ(config_read(0x80000000, 6, 2), 0x29c0u);  // word at 0xcfe: device ID
  EXPECT_EQ(config_read(0x80000000, 7, 1), 0x29u);
  EXPECT_EQ(config_read(0x80000800), 0xffffffffu);  // 00:01.0 is absent
  EXPECT_EQ(config_read(0x00000000), 0xffffffffu);  // enable bit clear
  EXPECT_EQ(config_read(0x80010000), 0xffffffffu);  // bus 1 does not exist
  write_reg(ports, 0, 0xffffffff);
  EXPECT_EQ(read_reg(ports, 0), 0x80fffffcu);  // reserved bits read zero
  EXPECT_EQ(bus.metrics().unclaimed, 1u);
}

TEST_F(PciBusTest, MechanismOneWrites) {
  ConfigSpace disk(kDisk);
  ASSERT_TRUE(bus.add(3, 0, disk).ok());
  write_reg(ports, 0, 0x8000183c);  // 00:03.0 register 0x3c
  write_reg(ports, 4, 0x0a, 1);
  EXPECT_EQ(disk.read(reg::kInterruptLine, 1), 0x0au);
  write_reg(ports, 0, 0x80001804);
  write_reg(ports, 4, 0x0002, 2);
  EXPECT_EQ(disk.read(reg::kCommand, 2), kCommandMemorySpace);
  write_reg(ports, 0, 0x00001804);  // disabled: dropped
  write_reg(ports, 4, 0x0000, 2);
  EXPECT_EQ(disk.read(reg::kCommand, 2), kCommandMemorySpace);
}

TEST_F(PciBusTest, EcamReachesTheSameFunctions) {
  ConfigSpace disk(kDisk);
  ASSERT_TRUE(bus.add(3, 0, disk).ok());
  EXPECT_EQ(ecam.size(), 2u << 20);
  EXPECT_EQ(read_reg(ecam, 0), 0x29c08086u);
  EXPECT_EQ(read_reg(ecam, 0, 8), 0x0000000329c08086ull);  // two doublewords: IDs, command
  const uint64_t disk_at = 3 << 15;
  EXPECT_EQ(read_reg(ecam, disk_at), 0x10421af4u);
  EXPECT_EQ(read_reg(ecam, disk_at + 0x100), 0u);     // extended space: no capabilities
  EXPECT_EQ(read_reg(ecam, 4 << 15), 0xffffffffu);    // absent device
  EXPECT_EQ(read_reg(ecam, (1 << 20)), 0xffffffffu);  // bus 1: nothing there
  write_reg(ecam, disk_at + reg::kInterruptLine, 0x0b, 1);
  EXPECT_EQ(disk.read(reg::kInterruptLine, 1), 0x0bu);
  write_reg(ecam, disk_at + 0x3e, 0x0000000c0000ull, 8);  // straddles into the next dword
  EXPECT_EQ(disk.read(reg::kInterruptLine, 1), 0x0bu);
}

TEST_F(PciBusTest, RegistryRefusesTakenAndInvalidSlots) {
  ConfigSpace a(kDisk), b(kDisk), bad(kDisk);
  EXPECT_FALSE(bus.add(0, 0, a).ok());  // the host bridge is there
  EXPECT_FALSE(bus.add(32, 0, a).ok());
  EXPECT_FALSE(bus.add(1, 8, a).ok());
  bad.set_interrupt_pin(5);
  EXPECT_FALSE(bus.add(2, 0, bad).ok());
  ASSERT_TRUE(bus.add(1, 0, a).ok());
  EXPECT_FALSE(bus.add(1, 0, b).ok());
  EXPECT_EQ(bus.find(1, 0), &a);
  EXPECT_EQ(bus.find(1, 1), nullptr);
}

TEST_F(PciBusTest, MultiFunctionBitFollowsTheFunctions) {
  ConfigSpace f0(kDisk), f3(kDisk);
  ASSERT_TRUE(bus.add(5, 0, f0).ok());
  EXPECT_EQ(f0.read(reg::kHeaderType, 1), 0x00u);
  ASSERT_TRUE(bus.add(5, 3, f3).ok());
  EXPECT_EQ(f0.read(reg::kHeaderType, 1), 0x80u);
}

TEST_F(PciBusTest, IntxPinsAreRoutedToGsis) {
  ConfigSpace a(kDisk), b(kDisk);
  a.set_interrupt_pin(1);  // INTA#
  b.set_interrupt_pin(2);  // INTB#
  ASSERT_TRUE(bus.add(3, 0, a).ok());
  ASSERT_TRUE(bus.add(4, 0, b).ok());
  EXPECT_EQ(a.read(reg::kInterruptLine, 1), 19u);  // 16 + (3 + 0) % 4
  EXPECT_EQ(b.read(reg::kInterruptLine, 1), 17u);  // 16 + (4 + 1) % 4
  EXPECT_EQ(intx_gsi(0, 1), 16u);
  RecordingSink sink;
  devices::IrqLine line = bus.intx_line(sink, 3, 0);
  line.raise();
  EXPECT_EQ(sink.calls, (std::vector<std::pair<uint32_t, bool>>{{19, true}}));
  EXPECT_EQ(bus.intx_line(sink, 0, 0).gsi(), 0u);  // no pin: an unconnected line
}

TEST_F(PciBusTest, SnapshotRoundTrip) {
  ConfigSpace disk(kDisk);
  ASSERT_TRUE(disk.add_bar(0, BarKind::kMemory32, 0x4000).ok());
  ASSERT_TRUE(bus.add(3, 0, disk).ok());
  write_reg(ecam, (3 << 15) + 0x10, 0xc0004000);
  write_reg(ecam, (3 << 15) + 0x04, kCommandMemorySpace, 2);
  write_reg(ports, 0, 0x80001810);
  snapshot::StateWriter out;
  bus.save(out);
  ports.save(out);

  PciBus bus2;
  HostBridge bridge2;
  ConfigSpace disk2(kDisk);
  ASSERT_TRUE(disk2.add_bar(0, BarKind::kMemory32, 0x4000).ok());
  ASSERT_TRUE(bridge2.attach(bus2).ok());
  ASSERT_TRUE(bus2.add(3, 0, disk2).ok());
  ConfigPorts ports2(bus2);
  snapshot::StateReader in(out.data());
  const auto loaded = bus2.load(in);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  ASSERT_TRUE(ports2.load(in).ok());
  EXPECT_TRUE(in.at_end());
  EXPECT_EQ(disk2.bar_base(0), std::optional<uint64_t>(0xc0004000));
  EXPECT_EQ(read_reg(ports2, 4), 0xc0004000u);  // CONFIG_ADDRESS restored too
  for (uint16_t offset = 0; offset < 0x100; offset += 4) {
    EXPECT_EQ(disk2.read(offset, 4), disk.read(offset, 4)) << offset;
  }

  PciBus missing;  // a bus without the disk refuses the stream
  HostBridge bridge3;
  ASSERT_TRUE(bridge3.attach(missing).ok());
  snapshot::StateReader again(out.data());
  EXPECT_FALSE(missing.load(again).ok());
}

}  // namespace
}  // namespace cella::pci
