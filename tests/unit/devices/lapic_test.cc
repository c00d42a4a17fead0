// The local APIC through its registers and MSRs: reset state, priorities, EOI, errors, IPIs,
// x2APIC mode and IA32_APIC_BASE, LINT0/LINT1.
#include "devices/lapic/lapic.h"

#include <gtest/gtest.h>

#include "tests/support/device_access.h"
#include "tests/unit/devices/apic_fakes.h"

namespace cella::devices {
namespace {

using cella::testing::read_reg;
using cella::testing::write_reg;
using namespace lapic;

ApicMessage fixed(uint8_t vector, bool level = false) {
  ApicMessage m;
  m.vector = vector;
  m.level_triggered = level;
  return m;
}

ApicMessage of_mode(DeliveryMode mode, uint8_t vector = 0) {
  ApicMessage m;
  m.mode = mode;
  m.vector = vector;
  return m;
}

class LapicTest : public ::testing::Test {
 protected:
  explicit LapicTest(LapicConfig config = {.apic_id = 3, .bsp = true})
      : apic(config, timers, &router, &pic, &tsc) {}
  void enable() { write_reg(apic, kSvr, 0x1ff); }
  uint32_t reg(uint16_t offset) { return static_cast<uint32_t>(read_reg(apic, offset)); }
  uint32_t latched_esr() {
    write_reg(apic, kEsr, 0);
    return reg(kEsr);
  }
  bool irr(uint8_t v) { return (reg(kIrr + 16 * (v >> 5)) >> (v & 31)) & 1; }
  bool isr(uint8_t v) { return (reg(kIsr + 16 * (v >> 5)) >> (v & 31)) & 1; }
  bool tmr(uint8_t v) { return (reg(kTmr + 16 * (v >> 5)) >> (v & 31)) & 1; }

  ManualClock clock;
  TimerQueue timers{clock};
  RecordingRouter router;
  FakePic pic;
  FakeTsc tsc{clock};
  Lapic apic;
};

TEST_F(LapicTest, PowerOnState) {
  // SDM Vol. 3A 11.4.4 and 11.4.7.1.
  EXPECT_EQ(apic.read_msr(0x1b).value, 0xfee00900u);  // enabled, BSP
  EXPECT_EQ(reg(kId), 3u << 24);
  EXPECT_EQ(reg(kVersion), 0x00050014u);  // 6 LVT entries, no EOI-broadcast suppression
  EXPECT_EQ(reg(kSvr), 0xffu);
  EXPECT_EQ(reg(kDfr), 0xffffffffu);
  for (uint16_t lvt = kLvtTimer; lvt <= 0x370; lvt += 16) EXPECT_EQ(reg(lvt), 0x10000u) << lvt;
  EXPECT_EQ(reg(kTpr), 0u);
  EXPECT_EQ(reg(kPpr), 0u);
  EXPECT_FALSE(apic.has_interrupt());
  EXPECT_TRUE(apic.xapic_mmio_active());
  EXPECT_EQ(apic.mmio_base(), 0xfee00000u);
}

TEST_F(LapicTest, PriorityFollowsTheInServiceVectorAndTpr) {
  enable();
  apic.accept(fixed(0x41));
  apic.accept(fixed(0x81));
  EXPECT_TRUE(irr(0x41) && irr(0x81));
  ASSERT_TRUE(apic.has_interrupt());
  EXPECT_EQ(apic.acknowledge(), 0x81);
  EXPECT_TRUE(isr(0x81));
  EXPECT_FALSE(irr(0x81));
  EXPECT_EQ(reg(kPpr), 0x80u);
  EXPECT_FALSE(apic.has_interrupt());  // class 4 waits behind class 8 in service
  apic.accept(fixed(0x91));
  ASSERT_TRUE(apic.has_interrupt());
  EXPECT_EQ(apic.acknowledge(), 0x91);  // nests
  EXPECT_EQ(reg(kPpr), 0x90u);
  write_reg(apic, kEoi, 0);
  EXPECT_FALSE(isr(0x91));
  EXPECT_EQ(reg(kPpr), 0x80u);
  write_reg(apic, kEoi, 0);
  EXPECT_EQ(reg(kPpr), 0u);
  EXPECT_TRUE(apic.has_interrupt());
  write_reg(apic, kTpr, 0x50);  // TPR above the pending class masks it
  EXPECT_EQ(reg(kPpr), 0x50u);
  EXPECT_FALSE(apic.has_interrupt());
  apic.set_cr8(3);  // CR8 is TPR[7:4]
  EXPECT_EQ(reg(kTpr), 0x30u);
  EXPECT_EQ(apic.cr8(), 3);
  EXPECT_TRUE(apic.has_interrupt());
  EXPECT_EQ(apic.acknowledge(), 0x41);
  EXPECT_EQ(apic.metrics().interrupts_delivered, 3u);
}

TEST_F(LapicTest, AcknowledgeWithNothingDeliverableIsSpurious) {
  write_reg(apic, kSvr, 0x1ef);
  apic.accept(fixed(0x31));
  write_reg(apic, kTpr, 0x40);
  EXPECT_EQ(apic.acknowledge(), 0xef);  // SDM Vol. 3A 11.9
  EXPECT_EQ(apic.metrics().spurious, 1u);
  EXPECT_TRUE(irr(0x31));  // still pending
}

TEST_F(LapicTest, SoftwareDisabledApicMasksLvtAndDropsFixedInterrupts) {
  enable();
  write_reg(apic, kLvtTimer + 0x30, 0x700);  // LINT0: ExtINT, unmasked
  EXPECT_EQ(reg(0x350), 0x700u);
  write_reg(apic, kSvr, 0xff);  // software disable
  EXPECT_EQ(reg(0x350), 0x10700u);
  write_reg(apic, kLvtTimer, 0x20);
  EXPECT_EQ(reg(kLvtTimer), 0x10020u);  // cannot be unmasked while disabled
  apic.accept(fixed(0x50));
  EXPECT_FALSE(irr(0x50));
  apic.accept(of_mode(DeliveryMode::kNmi));  // NMI still gets in (SDM Vol. 3A 11.4.7.2)
  EXPECT_TRUE(apic.take_nmi());
  EXPECT_FALSE(apic.nmi_pending());
}

TEST_F(LapicTest, LevelTriggeredEoiIsBroadcastToTheIoapics) {
  enable();
  apic.accept(fixed(0x61, true));
  EXPECT_TRUE(tmr(0x61));
  EXPECT_EQ(apic.acknowledge(), 0x61);
  write_reg(apic, kEoi, 0);
  EXPECT_EQ(router.eois, std::vector<uint8_t>{0x61});
  apic.accept(fixed(0x62));
  EXPECT_FALSE(tmr(0x62));
  EXPECT_EQ(apic.acknowledge(), 0x62);
  write_reg(apic, kEoi, 0);
  EXPECT_EQ(router.eois.size(), 1u);  // edge: no broadcast
  EXPECT_EQ(apic.metrics().eois, 2u);
}

TEST_F(LapicTest, SvrSuppressionBitNeedsTheFeature) {
  write_reg(apic, kSvr, 0x11ff);
  EXPECT_EQ(reg(kSvr), 0x1ffu);  // bit 12 reserved without directed EOI
}

class SuppressingLapicTest : public LapicTest {
 protected:
  SuppressingLapicTest() : LapicTest({.apic_id = 0, .eoi_broadcast_suppression = true}) {}
};

TEST_F(SuppressingLapicTest, SuppressedEoiBroadcast) {
  EXPECT_EQ(reg(kVersion), 0x01050014u);
  write_reg(apic, kSvr, 0x11ff);
  EXPECT_EQ(reg(kSvr), 0x11ffu);
  apic.accept(fixed(0x61, true));
  EXPECT_EQ(apic.acknowledge(), 0x61);
  write_reg(apic, kEoi, 0);
  EXPECT_TRUE(router.eois.empty());
  EXPECT_FALSE(isr(0x61));
}

TEST_F(LapicTest, IllegalVectorsAndRegistersSetTheEsr) {
  enable();
  write_reg(apic, kIcrLow, 0x05);  // fixed IPI with vector 5
  EXPECT_TRUE(router.messages.empty());
  EXPECT_EQ(reg(kEsr), 0u);  // not visible before the ESR write latches it
  EXPECT_EQ(latched_esr(), kEsrSendIllegalVector);
  apic.accept(fixed(3));
  EXPECT_EQ(latched_esr(), kEsrReceiveIllegalVector);
  EXPECT_EQ(latched_esr(), 0u);
  write_reg(apic, 0x370, 0xfe);  // LVT error, vector 0xfe
  EXPECT_EQ(reg(0x040), 0u);     // reserved offset
  EXPECT_EQ(latched_esr(), kEsrIllegalRegisterAddress);
  EXPECT_TRUE(irr(0xfe));  // the error interrupt
}

TEST_F(LapicTest, IcrSendsIpisThroughTheRouter) {
  enable();
  write_reg(apic, kIcrHigh, 0x05000000);
  write_reg(apic, kIcrLow, 0x000048a0);  // fixed, logical, assert, vector 0xa0
  ASSERT_EQ(router.messages.size(), 1u);
  const ApicMessage& m = router.messages[0];
  EXPECT_EQ(m.vector, 0xa0);
  EXPECT_EQ(m.mode, DeliveryMode::kFixed);
  EXPECT_TRUE(m.logical);
  EXPECT_EQ(m.destination, 5u);
  EXPECT_FALSE(m.x2apic_format);
  EXPECT_EQ(m.source, &apic);
  write_reg(apic, kIcrLow, 0x000c4500);  // INIT to all excluding self
  write_reg(apic, kIcrLow, 0x000c4608);  // SIPI, vector 8
  ASSERT_EQ(router.messages.size(), 3u);
  EXPECT_EQ(router.messages[1].mode, DeliveryMode::kInit);
  EXPECT_EQ(router.messages[1].shorthand, Shorthand::kAllExcludingSelf);
  EXPECT_EQ(router.messages[2].mode, DeliveryMode::kStartUp);
  EXPECT_EQ(router.messages[2].vector, 8);
  write_reg(apic, kIcrLow, 0xffffffff);  // ExtINT is not a valid ICR mode: nothing sent
  EXPECT_EQ(router.messages.size(), 3u);
  EXPECT_EQ(reg(kIcrLow), 0x000ccfffu);  // delivery status reads idle, reserved bits zero
  EXPECT_EQ(reg(kIcrHigh), 0x05000000u);
  EXPECT_EQ(apic.metrics().ipis_sent, 3u);
}

TEST_F(LapicTest, ApicBaseTransitions) {
  // SDM Vol. 3A 11.12.5, Figure 11-27.
  EXPECT_FALSE(apic.read_msr(0x802).ok);                             // x2APIC MSRs need x2APIC mode
  EXPECT_FALSE(apic.write_msr(0x1b, 0xfee00901).ok);                 // reserved bit 0
  EXPECT_FALSE(apic.write_msr(0x1b, 0xfee00900 | (1ull << 46)).ok);  // above MAXPHYADDR
  EXPECT_FALSE(apic.write_msr(0x1b, 0xfee00500).ok);                 // EXTD without EN
  EXPECT_TRUE(apic.write_msr(0x1b, 0xfee00d00).ok);                  // xAPIC -> x2APIC
  EXPECT_TRUE(apic.x2apic_mode());
  EXPECT_FALSE(apic.write_msr(0x1b, 0xfee00900).ok);  // x2APIC -> xAPIC
  EXPECT_TRUE(apic.write_msr(0x1b, 0xfee00100).ok);   // x2APIC -> disabled
  EXPECT_FALSE(apic.globally_enabled());
  EXPECT_FALSE(apic.write_msr(0x1b, 0xfee00d00).ok);  // disabled -> x2APIC
  EXPECT_TRUE(apic.write_msr(0x1b, 0xfed00800).ok);   // disabled -> xAPIC, relocated
  EXPECT_EQ(apic.read_msr(0x1b).value, 0xfed00900u);  // BSP is not the guest's to clear
  EXPECT_EQ(apic.mmio_base(), 0xfed00000u);
  EXPECT_TRUE(apic.xapic_mmio_active());
}

TEST_F(LapicTest, GlobalDisableResetsTheRegisters) {
  enable();
  write_reg(apic, kTpr, 0x20);
  write_reg(apic, kId, 0x07000000);
  EXPECT_EQ(reg(kId), 0x07000000u);
  ASSERT_TRUE(apic.write_msr(0x1b, 0xfee00100).ok);
  EXPECT_EQ(read_reg(apic, kSvr), 0xffffffffu);  // no MMIO while disabled
  ASSERT_TRUE(apic.write_msr(0x1b, 0xfee00900).ok);
  EXPECT_EQ(reg(kSvr), 0xffu);
  EXPECT_EQ(reg(kTpr), 0u);
  EXPECT_EQ(reg(kId), 3u << 24);
}

TEST_F(LapicTest, X2apicRegistersAreMsrs) {
  enable();
  write_reg(apic, kTpr, 0x20);
  ASSERT_TRUE(apic.write_msr(0x1b, 0xfee00d00).ok);
  EXPECT_EQ(read_reg(apic, kSvr), 0xffffffffu);    // the MMIO page is gone
  EXPECT_EQ(apic.read_msr(0x802).value, 3u);       // 32-bit ID
  EXPECT_EQ(apic.read_msr(0x80d).value, 1u << 3);  // LDR: cluster 0, bit 3
  EXPECT_EQ(apic.read_msr(0x803).value, 0x00050014u);
  EXPECT_EQ(apic.read_msr(0x808).value, 0x20u);  // registers survive the switch
  EXPECT_EQ(apic.read_msr(0x80f).value, 0x1ffu);
  EXPECT_FALSE(apic.write_msr(0x802, 9).ok);  // ID is read-only
  EXPECT_FALSE(apic.write_msr(0x80d, 9).ok);  // so is LDR
  EXPECT_FALSE(apic.read_msr(0x80e).ok);      // no DFR
  EXPECT_FALSE(apic.read_msr(0x809).ok);      // no APR
  EXPECT_FALSE(apic.read_msr(0x831).ok);      // no ICR high half
  EXPECT_FALSE(apic.read_msr(0x80b).ok);      // EOI is write-only
  EXPECT_FALSE(apic.write_msr(0x80b, 1).ok);  // and takes only zero
  EXPECT_FALSE(apic.write_msr(0x808, 1ull << 32).ok);
  EXPECT_FALSE(apic.write_msr(0x828, 1).ok);                    // ESR takes only zero
  EXPECT_FALSE(apic.read_msr(0x8ff).ok);                        // nothing there
  EXPECT_FALSE(apic.write_msr(0x830, 1ull << 13).ok);           // reserved ICR bit
  ASSERT_TRUE(apic.write_msr(0x830, (7ull << 32) | 0x4ab).ok);  // NMI to APIC ID 7
  ASSERT_EQ(router.messages.size(), 1u);
  EXPECT_EQ(router.messages[0].destination, 7u);
  EXPECT_TRUE(router.messages[0].x2apic_format);
  EXPECT_EQ(router.messages[0].mode, DeliveryMode::kNmi);
  EXPECT_EQ(apic.read_msr(0x830).value, (7ull << 32) | 0x4ab);
  write_reg(apic, kTpr, 0);  // dropped
  ASSERT_TRUE(apic.write_msr(0x808, 0).ok);
  ASSERT_TRUE(apic.write_msr(0x83f, 0x55).ok);  // SELF IPI
  EXPECT_FALSE(apic.write_msr(0x83f, 0x155).ok);
  ASSERT_TRUE(apic.has_interrupt());
  EXPECT_EQ(apic.acknowledge(), 0x55);
  EXPECT_EQ(apic.read_msr(0x812).value, 1u << (0x55 - 0x40));  // ISR bits 95:64
  EXPECT_TRUE(apic.write_msr(0x80b, 0).ok);
  EXPECT_EQ(apic.read_msr(0x812).value, 0u);
}

TEST_F(LapicTest, ExtIntFromThe8259BypassesPriority) {
  enable();
  pic.output = true;
  EXPECT_FALSE(apic.has_interrupt());  // LINT0 masked
  write_reg(apic, 0x350, 0x700);
  write_reg(apic, kTpr, 0xf0);
  ASSERT_TRUE(apic.has_interrupt());
  EXPECT_EQ(apic.acknowledge(), 0x20);
  EXPECT_EQ(pic.acknowledged, 1);
  EXPECT_FALSE(apic.has_interrupt());
  // Globally disabled, the 8259 drives INTR directly (SDM Vol. 3A 11.4.3).
  ASSERT_TRUE(apic.write_msr(0x1b, 0xfee00000).ok);
  pic.output = true;
  pic.vector = 0x28;
  ASSERT_TRUE(apic.has_interrupt());
  EXPECT_EQ(apic.acknowledge(), 0x28);
}

TEST_F(LapicTest, Lint1NmiIsEdgeTriggered) {
  enable();
  write_reg(apic, 0x360, 0x400);  // LINT1: NMI
  apic.set_lint(1, true);
  EXPECT_TRUE(apic.take_nmi());
  EXPECT_FALSE(apic.take_nmi());
  apic.set_lint(1, true);  // no edge
  EXPECT_FALSE(apic.nmi_pending());
  apic.set_lint(1, false);
  apic.set_lint(1, true);
  EXPECT_TRUE(apic.nmi_pending());
}

TEST_F(LapicTest, LevelTriggeredLint0UsesRemoteIrr) {
  enable();
  write_reg(apic, 0x350, 0x8070);  // fixed, level, vector 0x70
  apic.set_lint(0, true);
  EXPECT_TRUE(irr(0x70));
  EXPECT_TRUE(tmr(0x70));
  EXPECT_EQ(reg(0x350), 0xc070u);  // remote IRR
  EXPECT_EQ(apic.acknowledge(), 0x70);
  apic.set_lint(0, true);
  EXPECT_FALSE(irr(0x70));  // in service: not taken again
  write_reg(apic, kEoi, 0);
  EXPECT_TRUE(irr(0x70));  // still asserted at EOI: taken again
  EXPECT_EQ(apic.acknowledge(), 0x70);
  apic.set_lint(0, false);
  write_reg(apic, kEoi, 0);
  EXPECT_FALSE(irr(0x70));
  EXPECT_EQ(reg(0x350), 0x8070u);
}

TEST_F(LapicTest, InitResetsTheRegistersButNotTheIdAndSipiIsRecorded) {
  enable();
  write_reg(apic, kTpr, 0x40);
  ApicMessage deassert = of_mode(DeliveryMode::kInit);
  deassert.level_triggered = true;
  deassert.assert_level = false;
  apic.accept(deassert);
  EXPECT_FALSE(apic.init_pending());  // INIT level de-assert does nothing
  apic.accept(of_mode(DeliveryMode::kInit));
  EXPECT_TRUE(apic.init_pending());
  EXPECT_TRUE(apic.take_init());
  EXPECT_FALSE(apic.take_init());
  EXPECT_EQ(reg(kSvr), 0xffu);
  EXPECT_EQ(reg(kTpr), 0u);
  EXPECT_EQ(reg(kId), 3u << 24);
  apic.accept(of_mode(DeliveryMode::kStartUp, 0x9a));
  EXPECT_EQ(apic.take_sipi(), std::optional<uint8_t>(0x9a));
  EXPECT_EQ(apic.take_sipi(), std::nullopt);
  apic.accept(of_mode(DeliveryMode::kSmi));
  EXPECT_TRUE(apic.take_smi());
}

TEST_F(LapicTest, NarrowAndMisalignedMmioAccesses) {
  write_reg(apic, kSvr, 0x1ab);
  EXPECT_EQ(read_reg(apic, kSvr + 1, 1), 0x01u);
  EXPECT_EQ(read_reg(apic, kSvr, 2), 0x1abu);
  EXPECT_EQ(read_reg(apic, kSvr + 4, 4), 0u);  // bytes 4-15 of a slot
  write_reg(apic, kSvr, 0x0cd, 1);             // not a 32-bit write: dropped
  write_reg(apic, kSvr + 4, 0x0cd, 4);
  EXPECT_EQ(reg(kSvr), 0x1abu);
  EXPECT_EQ(read_reg(apic, 0xffc, 8), 0u);  // past the page
}

}  // namespace
}  // namespace cella::devices
