// PCI functions plugged into the PC platform: the firmware-like BAR placement, the MMIO mapping
// that follows the guest's reprogramming (and never takes over another device's range), and
// the refusal of a taken slot.
#include <gtest/gtest.h>

#include <vector>

#include "base/clock.h"
#include "devices/ioapic/ioapic.h"
#include "machine/memory_map.h"
#include "machine/pc_platform.h"

namespace cella::machine {
namespace {

// A BAR's register window that answers its offset + 1 to reads.
class EchoWindow final : public devices::Device {
 public:
  std::string_view name() const override { return "echo"; }
  void read(uint64_t offset, std::span<uint8_t> data) override {
    devices::fill_access(data, offset + 1);
  }
  void write(uint64_t, std::span<const uint8_t>) override {}
  void reset() override {}
  void save(snapshot::StateWriter&) const override {}
  Result<void> load(snapshot::StateReader&) override { return ok(); }
};

class FixedTsc final : public devices::TscSource {
 public:
  uint64_t tsc() const override { return 0; }
  uint64_t tsc_hz() const override { return 1'000'000'000; }
};

constexpr pci::FunctionIdentity kFunction{
    .vendor_id = 0x1af4, .device_id = 0x1042, .base_class = 0x01, .subclass = 0x80};

class PcPlatformPciTest : public testing::Test {
 protected:
  void SetUp() override {
    PlatformConfig config;
    config.tsc_hz = 1'000'000'000;
    config.physical_address_bits = 40;
    platform = std::make_unique<PcPlatform>(config, timers, tsc, PlatformEvents{});
    ASSERT_TRUE(platform->attach().ok());
  }
  uint32_t config_read(uint8_t slot, uint16_t offset) {
    platform->port_write(0xcf8, 4, 0x80000000u | slot << 11 | offset);
    return platform->port_read(0xcfc, 4);
  }
  void config_write(uint8_t slot, uint16_t offset, uint32_t value) {
    platform->port_write(0xcf8, 4, 0x80000000u | slot << 11 | offset);
    platform->port_write(0xcfc, 4, value);
  }

  ManualClock clock;
  devices::TimerQueue timers{clock};
  FixedTsc tsc;
  std::unique_ptr<PcPlatform> platform;
};

TEST_F(PcPlatformPciTest, BarsArePlacedAlignedInTheWindowAndDecode) {
  pci::ConfigSpace first(kFunction), second(kFunction);
  ASSERT_TRUE(first.add_bar(0, pci::BarKind::kMemory32, 0x8000).ok());
  ASSERT_TRUE(second.add_bar(0, pci::BarKind::kMemory32, 0x1000).ok());
  ASSERT_TRUE(second.add_bar(2, pci::BarKind::kMemory64, 0x10000).ok());
  EchoWindow a, b;
  ASSERT_TRUE(platform->attach_pci_function(1, first, a).ok());
  ASSERT_TRUE(platform->attach_pci_function(2, second, b).ok());

  const auto base_a = first.bar_base(0);
  const auto base_b0 = second.bar_base(0);
  const auto base_b2 = second.bar_base(2);
  ASSERT_TRUE(base_a && base_b0 && base_b2);
  EXPECT_EQ(*base_a, memory_map::kPciWindow32First);
  EXPECT_EQ(*base_b0 % 0x1000, 0u);
  EXPECT_EQ(*base_b2 % 0x10000, 0u);  // naturally aligned
  EXPECT_GE(*base_b0, *base_a + 0x8000);
  EXPECT_GE(*base_b2, *base_b0 + 0x1000);
  // The guest finds them assigned, with memory decoding and bus mastering on.
  EXPECT_EQ(config_read(1, pci::reg::kBar0), *base_a);
  EXPECT_EQ(config_read(1, pci::reg::kCommand) & 0xffff,
            uint32_t{pci::kCommandMemorySpace | pci::kCommandBusMaster});
  EXPECT_EQ(platform->mmio_read(*base_a + 0x10, 4), 0x11u);
  EXPECT_EQ(platform->mmio_read(*base_b2 + 0x20, 4), 0x21u);
  // A taken slot is refused.
  pci::ConfigSpace third(kFunction);
  EchoWindow c;
  EXPECT_FALSE(platform->attach_pci_function(1, third, c).ok());
}

TEST_F(PcPlatformPciTest, TheMappingFollowsTheGuestAndNeverTakesAnotherDevicesRange) {
  pci::ConfigSpace function(kFunction);
  ASSERT_TRUE(function.add_bar(0, pci::BarKind::kMemory32, 0x1000).ok());
  EchoWindow window;
  ASSERT_TRUE(platform->attach_pci_function(3, function, window).ok());
  const uint64_t assigned = *function.bar_base(0);

  const uint32_t moved = 0xd0000000;
  config_write(3, pci::reg::kBar0, moved);
  EXPECT_EQ(platform->mmio_read(moved + 4, 4), 5u);
  EXPECT_EQ(platform->mmio_read(assigned + 4, 4), 0xffffffffu);  // open bus now

  // Over the IOAPIC: refused as a conflict; the IOAPIC keeps answering (its version register).
  const uint64_t ioapic = devices::Ioapic::kDefaultBase;
  platform->mmio_write(ioapic, 4, 1);  // IOREGSEL = IOAPICVER
  const uint64_t version = platform->mmio_read(ioapic + 0x10, 4);
  config_write(3, pci::reg::kBar0, static_cast<uint32_t>(ioapic));
  EXPECT_EQ(platform->metrics().bar_conflicts, 1u);
  EXPECT_EQ(platform->mmio_read(ioapic + 0x10, 4), version);
  // Moving away again must not unmap the IOAPIC.
  config_write(3, pci::reg::kBar0, moved);
  EXPECT_EQ(platform->mmio_read(ioapic + 0x10, 4), version);
  EXPECT_EQ(platform->mmio_read(moved + 4, 4), 5u);

  // Memory decoding off: unmapped.
  config_write(3, pci::reg::kCommand, 0);
  EXPECT_EQ(platform->mmio_read(moved + 4, 4), 0xffffffffu);
}

}  // namespace
}  // namespace cella::machine
