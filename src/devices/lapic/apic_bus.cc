#include "devices/lapic/apic_bus.h"

#include "devices/lapic/lapic.h"

namespace cella::devices {

// SDM Vol. 3A 11.6.1: the shorthand, when present, replaces the destination field.
bool ApicBus::addressed(const Lapic& lapic, const ApicMessage& message) const {
  if (!lapic.globally_enabled()) return false;
  switch (message.shorthand) {
    case Shorthand::kNone:
      return lapic.matches_destination(message);
    case Shorthand::kSelf:
      return &lapic == message.source;
    case Shorthand::kAllIncludingSelf:
      return true;
    case Shorthand::kAllExcludingSelf:
      return &lapic != message.source;
  }
  return false;
}

void ApicBus::send(const ApicMessage& message) {
  ++metrics_.messages;
  if (message.mode == DeliveryMode::kLowestPriority) {
    // SDM Vol. 3A 11.6.2.4: the addressed processor with the lowest priority (PPR here; ties
    // go to the first attached) that has its APIC software-enabled takes the interrupt.
    Lapic* chosen = nullptr;
    for (Lapic* lapic : lapics_) {
      if (!addressed(*lapic, message) || !lapic->software_enabled()) continue;
      if (chosen == nullptr || lapic->processor_priority() < chosen->processor_priority()) {
        chosen = lapic;
      }
    }
    if (chosen == nullptr) {
      ++metrics_.undelivered;
      return;
    }
    chosen->accept(message);
    return;
  }
  bool delivered = false;
  for (Lapic* lapic : lapics_) {
    if (!addressed(*lapic, message)) continue;
    lapic->accept(message);
    delivered = true;
  }
  if (!delivered) ++metrics_.undelivered;
}

void ApicBus::broadcast_eoi(uint8_t vector) {
  for (EoiListener* listener : eoi_listeners_) listener->end_of_interrupt(vector);
}

}  // namespace cella::devices
