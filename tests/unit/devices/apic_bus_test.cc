// Local APICs on one APIC bus: destinations (physical, flat and cluster logical, x2APIC),
// shorthands, lowest priority, and the INIT-SIPI-SIPI sequence Linux uses to start APs.
#include "devices/lapic/apic_bus.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "devices/lapic/lapic.h"
#include "tests/support/device_access.h"

namespace cella::devices {
namespace {

using cella::testing::read_reg;
using cella::testing::write_reg;
using namespace lapic;

class ApicBusTest : public ::testing::Test {
 protected:
  ApicBusTest() {
    for (uint32_t id = 0; id < 4; ++id) {
      apics.push_back(
          std::make_unique<Lapic>(LapicConfig{.apic_id = id, .bsp = id == 0}, timers, &bus));
      bus.attach(*apics.back());
      write_reg(*apics.back(), kSvr, 0x1ff);
    }
  }
  Lapic& apic(int i) { return *apics[i]; }
  bool irr(int i, uint8_t v) {
    Lapic& a = apic(i);
    uint64_t word = 0;  // a disabled APIC has a clear IRR
    if (a.x2apic_mode()) word = a.read_msr(0x820 + (v >> 5)).value;
    if (a.xapic_mmio_active()) word = read_reg(a, kIrr + 16 * (v >> 5));
    return (word >> (v & 31)) & 1;
  }
  void send(int from, uint32_t high, uint32_t low) {
    write_reg(apic(from), kIcrHigh, high);
    write_reg(apic(from), kIcrLow, low);
  }
  std::vector<int> receivers(uint8_t v) {
    std::vector<int> out;
    for (int i = 0; i < 4; ++i) {
      if (irr(i, v)) out.push_back(i);
    }
    return out;
  }

  ManualClock clock;
  TimerQueue timers{clock};
  ApicBus bus;
  std::vector<std::unique_ptr<Lapic>> apics;
};

TEST_F(ApicBusTest, PhysicalDestinationAndBroadcast) {
  send(0, 2u << 24, 0x4050);
  EXPECT_EQ(receivers(0x50), std::vector<int>{2});
  send(0, 0xffu << 24, 0x4051);
  EXPECT_EQ(receivers(0x51), (std::vector<int>{0, 1, 2, 3}));
  send(0, 9u << 24, 0x4052);  // nobody
  EXPECT_TRUE(receivers(0x52).empty());
  EXPECT_EQ(bus.metrics().undelivered, 1u);
}

TEST_F(ApicBusTest, Shorthands) {
  send(1, 0, 0x44060);  // self
  EXPECT_EQ(receivers(0x60), std::vector<int>{1});
  send(1, 0, 0x84061);  // all including self
  EXPECT_EQ(receivers(0x61), (std::vector<int>{0, 1, 2, 3}));
  send(1, 0, 0xc4062);  // all excluding self
  EXPECT_EQ(receivers(0x62), (std::vector<int>{0, 2, 3}));
}

TEST_F(ApicBusTest, FlatAndClusterLogicalDestinations) {
  // Flat model: LDR bit per CPU, as Linux's default xAPIC flat mode programs it.
  for (int i = 0; i < 4; ++i) write_reg(apic(i), kLdr, (1u << i) << 24);
  send(0, 0x0au << 24, 0x4870);  // logical, CPUs 1 and 3
  EXPECT_EQ(receivers(0x70), (std::vector<int>{1, 3}));
  // Cluster model: cluster in bits 31:28, members in 27:24.
  for (int i = 0; i < 4; ++i) {
    write_reg(apic(i), kDfr, 0x0fffffff);
    write_reg(apic(i), kLdr, ((i / 2 + 1) << 28 | (1u << (i % 2)) << 24));
  }
  send(0, 0x23u << 24, 0x4871);  // cluster 2, both members
  EXPECT_EQ(receivers(0x71), (std::vector<int>{2, 3}));
}

TEST_F(ApicBusTest, X2apicPhysicalAndClusterDestinations) {
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(apic(i).write_msr(0x1b, 0xfee00c00 | (i == 0 ? 0x100 : 0)).ok);
  ASSERT_TRUE(apic(0).write_msr(0x830, (3ull << 32) | 0x4080).ok);
  EXPECT_EQ(receivers(0x80), std::vector<int>{3});
  // x2APIC logical: cluster = ID >> 4 (all 0 here), bit (ID & 15).
  ASSERT_TRUE(apic(0).write_msr(0x830, (0x0006ull << 32) | 0x4881).ok);
  EXPECT_EQ(receivers(0x81), (std::vector<int>{1, 2}));
  ASSERT_TRUE(apic(0).write_msr(0x830, (0xffffffffull << 32) | 0x4082).ok);
  EXPECT_EQ(receivers(0x82), (std::vector<int>{0, 1, 2, 3}));
}

TEST_F(ApicBusTest, LowestPriorityPicksTheLowestPpr) {
  for (int i = 0; i < 4; ++i) write_reg(apic(i), kLdr, (1u << i) << 24);
  write_reg(apic(0), kTpr, 0x40);
  write_reg(apic(1), kTpr, 0x20);
  write_reg(apic(2), kTpr, 0x10);
  write_reg(apic(3), kTpr, 0x30);
  send(0, 0x0fu << 24, 0x4990);  // lowest priority, logical, all four
  EXPECT_EQ(receivers(0x90), std::vector<int>{2});
}

TEST_F(ApicBusTest, InitSipiSipiStartsAnApplicationProcessor) {
  // Linux's wakeup_secondary_cpu_via_init: INIT assert, INIT de-assert, then two SIPIs.
  send(0, 1u << 24, 0xc500);  // INIT, level, assert
  send(0, 1u << 24, 0x8500);  // INIT, level, de-assert
  EXPECT_TRUE(apic(1).take_init());
  EXPECT_FALSE(apic(2).init_pending());
  send(0, 1u << 24, 0x0609);  // start-up at 0x9000
  EXPECT_EQ(apic(1).take_sipi(), std::optional<uint8_t>(9));
  EXPECT_EQ(apic(2).take_sipi(), std::nullopt);
  send(0, 0, 0xc0400);  // NMI to all others
  EXPECT_FALSE(apic(0).nmi_pending());
  EXPECT_TRUE(apic(3).take_nmi());
}

TEST_F(ApicBusTest, GloballyDisabledApicsReceiveNothing) {
  ASSERT_TRUE(apic(2).write_msr(0x1b, 0xfee00000).ok);
  send(0, 0xffu << 24, 0x40a0);
  send(0, 0, 0xc0400);
  EXPECT_EQ(receivers(0xa0), (std::vector<int>{0, 1, 3}));
  EXPECT_FALSE(apic(2).nmi_pending());
}

}  // namespace
}  // namespace cella::devices
