#include "devices/interrupt_router.h"

#include "devices/ioapic/ioapic.h"

namespace cella::devices {

uint32_t isa_irq_to_gsi(unsigned irq, std::span<const InterruptSourceOverride> overrides) {
  for (const InterruptSourceOverride& o : overrides) {
    if (o.source == irq) return o.gsi;
  }
  return irq;  // ACPI 6.5 5.2.13: without an override, ISA IRQ n is GSI n
}

std::optional<unsigned> gsi_to_isa_irq(uint32_t gsi,
                                       std::span<const InterruptSourceOverride> overrides) {
  for (const InterruptSourceOverride& o : overrides) {
    if (o.gsi == gsi) return o.source;
  }
  if (gsi >= 16) return std::nullopt;
  for (const InterruptSourceOverride& o : overrides) {
    if (o.source == gsi) return std::nullopt;  // that IRQ went elsewhere: the GSI is free
  }
  return gsi;
}

void InterruptRouter::set_gsi(uint32_t gsi, bool level) {
  ++metrics_.level_changes;
  bool routed = false;
  if (ioapic_ != nullptr && gsi < Ioapic::kPins) {
    ioapic_->set_pin(gsi, level);
    routed = true;
  }
  if (pic_ != nullptr) {
    if (const std::optional<unsigned> irq = gsi_to_isa_irq(gsi)) {
      pic_->set_irq(*irq, level);
      routed = true;
    }
  }
  if (!routed) ++metrics_.unrouted;
}

}  // namespace cella::devices
