// GSIs to the IOAPIC and the 8259 pair, with the ISA IRQ0 -> GSI 2 override.
#include "devices/interrupt_router.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "devices/ioapic/ioapic.h"
#include "tests/support/device_access.h"
#include "tests/unit/devices/apic_fakes.h"

namespace cella::devices {
namespace {

class RecordingPic final : public IsaIrqInput {
 public:
  void set_irq(unsigned line, bool level) override { calls.emplace_back(line, level); }
  std::vector<std::pair<unsigned, bool>> calls;
};

TEST(InterruptRouter, OverrideTableMapsIsaIrqsAndGsis) {
  EXPECT_EQ(isa_irq_to_gsi(0), 2u);
  EXPECT_EQ(isa_irq_to_gsi(4), 4u);
  EXPECT_EQ(gsi_to_isa_irq(2), std::optional<unsigned>(0));
  EXPECT_EQ(gsi_to_isa_irq(0), std::nullopt);  // IRQ0 moved away: GSI 0 has no ISA IRQ
  EXPECT_EQ(gsi_to_isa_irq(8), std::optional<unsigned>(8));
  EXPECT_EQ(gsi_to_isa_irq(16), std::nullopt);
}

TEST(InterruptRouter, ForwardsToBothControllers) {
  RecordingRouter apic_bus;
  Ioapic io(&apic_bus);
  RecordingPic pic;
  InterruptRouter router(&io, &pic);
  // IOAPIC input 2: edge, vector 0x30, as Linux programs the timer pin.
  cella::testing::write_reg(io, 0x00, 0x14);
  cella::testing::write_reg(io, 0x10, 0x30);
  IrqLine pit(router, isa_irq_to_gsi(0));
  pit.pulse();
  ASSERT_EQ(apic_bus.messages.size(), 1u);
  EXPECT_EQ(apic_bus.messages[0].vector, 0x30);
  EXPECT_EQ(pic.calls,
            (std::vector<std::pair<unsigned, bool>>{{0, true}, {0, false}}));  // PIC IRQ0
  pic.calls.clear();
  router.set_gsi(4, true);  // COM1: both
  EXPECT_EQ(pic.calls, (std::vector<std::pair<unsigned, bool>>{{4, true}}));
  pic.calls.clear();
  router.set_gsi(18, true);  // a PCI INTx: IOAPIC only
  EXPECT_TRUE(pic.calls.empty());
  EXPECT_EQ(router.metrics().unrouted, 0u);
  router.set_gsi(40, true);  // beyond both
  EXPECT_EQ(router.metrics().unrouted, 1u);
}

}  // namespace
}  // namespace cella::devices
