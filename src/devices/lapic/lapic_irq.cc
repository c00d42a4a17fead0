// The local APIC's interrupt logic: acceptance into IRR, priorities, the acknowledge cycle,
// EOI, the local vector table's sources, errors, and IPIs.
#include "devices/lapic/lapic.h"

#include <algorithm>

namespace cella::devices {

using namespace lapic;

namespace {
uint32_t priority_class(int vector) {
  return vector < 0 ? 0 : static_cast<uint32_t>(vector) & 0xf0;
}
}  // namespace

// SDM Vol. 3A 11.8.3.1: PPR is TPR if TPR[7:4] >= ISRV[7:4], else ISRV[7:4] with bits 3:0 clear.
uint8_t Lapic::processor_priority() const {
  const uint32_t isr_class = priority_class(highest_vector(isr_));
  return static_cast<uint8_t>((tpr_ & 0xf0) >= isr_class ? tpr_ : isr_class);
}

// SDM Vol. 3A 11.6.2.4, Figure 11-15: the arbitration priority (xAPIC only).
uint32_t Lapic::read_apr(unsigned) const {
  const uint32_t tpr_class = tpr_ & 0xf0;
  const uint32_t isr_class = priority_class(highest_vector(isr_));
  const uint32_t irr_class = priority_class(highest_vector(irr_));
  if (tpr_class >= irr_class && tpr_class > isr_class) return tpr_;
  return std::max({tpr_class, isr_class, irr_class});
}

// SDM Vol. 3A 11.5.1: LINT0 programmed for ExtINT (or an ExtINT message) passes the 8259's
// INT output through, outside the priority scheme.
bool Lapic::ext_int_ready() const {
  if (pic_ == nullptr || !pic_->interrupt_output()) return false;
  const uint32_t lint0 = lvt_[static_cast<int>(Lvt::kLint0)];
  const bool virtual_wire =
      (lint0 & kLvtMasked) == 0 &&
      static_cast<DeliveryMode>((lint0 >> kLvtDeliveryModeShift) & 7) == DeliveryMode::kExtInt;
  return virtual_wire || ext_int_pending_;
}

bool Lapic::has_interrupt() const {
  // SDM Vol. 3A 11.4.3: with the APIC globally disabled, LINT0 is the processor's INTR pin.
  if (!globally_enabled()) return pic_ != nullptr && pic_->interrupt_output();
  if (ext_int_ready()) return true;
  if (!software_enabled()) return false;  // SDM Vol. 3A 11.4.7.2: IRR bits are held
  const int vector = highest_vector(irr_);
  return vector >= 0 && priority_class(vector) > (processor_priority() & 0xf0u);
}

uint8_t Lapic::acknowledge() {
  if (!globally_enabled() || ext_int_ready()) {
    if (pic_ != nullptr && pic_->interrupt_output()) {
      ext_int_pending_ = false;
      ++metrics_.interrupts_delivered;
      return pic_->acknowledge();
    }
  }
  const int vector = highest_vector(irr_);
  if (!globally_enabled() || !software_enabled() || vector < 0 ||
      priority_class(vector) <= (processor_priority() & 0xf0u)) {
    // SDM Vol. 3A 11.9: the interrupt went away (a TPR raise, say) before the acknowledge.
    ++metrics_.spurious;
    return static_cast<uint8_t>(svr_);
  }
  const auto v = static_cast<uint8_t>(vector);
  clear_vector(irr_, v);
  set_vector(isr_, v);
  ++metrics_.interrupts_delivered;
  return v;
}

// SDM Vol. 3A 11.8.4: a fixed interrupt sets its IRR bit, and its TMR bit for level trigger.
void Lapic::accept_fixed(uint8_t vector, bool level_triggered) {
  if (vector < 16) {  // SDM Vol. 3A 11.5.3: vectors 0-15 are illegal
    signal_error(kEsrReceiveIllegalVector);
    return;
  }
  if (!software_enabled()) return;  // SDM Vol. 3A 11.4.7.2: only NMI/SMI/INIT/SIPI get in
  set_vector(irr_, vector);
  if (level_triggered) {
    set_vector(tmr_, vector);
  } else {
    clear_vector(tmr_, vector);
  }
  ++metrics_.interrupts_accepted;
}

void Lapic::accept(const ApicMessage& message) {
  switch (message.mode) {
    case DeliveryMode::kFixed:
    case DeliveryMode::kLowestPriority:
      accept_fixed(message.vector, message.level_triggered);
      break;
    case DeliveryMode::kSmi:
      smi_pending_ = true;
      break;
    case DeliveryMode::kNmi:
      nmi_pending_ = true;
      break;
    case DeliveryMode::kInit:
      // SDM Vol. 3A 11.6.1: an INIT level de-assert only synchronizes arbitration IDs.
      if (!message.level_triggered || message.assert_level) init_pending_ = true;
      break;
    case DeliveryMode::kStartUp:
      sipi_vector_ = message.vector;
      break;
    case DeliveryMode::kExtInt:
      ext_int_pending_ = true;
      break;
    case DeliveryMode::kReserved3:
      break;
  }
}

// SDM Vol. 3A 11.5.1: a local interrupt source delivers through its LVT entry. The timer and
// error entries are always fixed; LINT0/LINT1 carry a delivery mode and trigger mode.
void Lapic::deliver_lvt(Lvt which) {
  const uint32_t entry = lvt_[static_cast<int>(which)];
  if ((entry & kLvtMasked) != 0) return;
  const bool lint = which == Lvt::kLint0 || which == Lvt::kLint1;
  ApicMessage message;
  message.vector = static_cast<uint8_t>(entry & kLvtVectorMask);
  message.mode = which == Lvt::kTimer || which == Lvt::kError
                     ? DeliveryMode::kFixed
                     : static_cast<DeliveryMode>((entry >> kLvtDeliveryModeShift) & 7);
  message.level_triggered =
      lint && message.mode == DeliveryMode::kFixed && (entry & kLvtLevelTriggered) != 0;
  if (message.mode == DeliveryMode::kExtInt) return;  // polled from the 8259 (ext_int_ready)
  if (message.level_triggered) lvt_[static_cast<int>(which)] |= kLvtRemoteIrr;
  accept(message);
}

void Lapic::set_lint(int pin, bool level) {
  if (pin < 0 || pin > 1) return;
  const bool rising = level && !lint_level_[pin];
  lint_level_[pin] = level;
  const auto which = pin == 0 ? Lvt::kLint0 : Lvt::kLint1;
  const uint32_t entry = lvt_[static_cast<int>(which)];
  // SDM Vol. 3A 11.5.1: level-triggered fixed interrupts are taken while asserted and not
  // already in service (remote IRR); NMI, SMI and INIT are always edge-triggered.
  const bool level_fixed =
      (entry & kLvtLevelTriggered) != 0 &&
      static_cast<DeliveryMode>((entry >> kLvtDeliveryModeShift) & 7) == DeliveryMode::kFixed;
  if (level_fixed ? (level && (entry & kLvtRemoteIrr) == 0) : rising) deliver_lvt(which);
}

// SDM Vol. 3A 11.5.3: errors accumulate in the ESR and interrupt through the LVT error entry.
void Lapic::signal_error(uint32_t esr_bits) {
  esr_pending_ |= esr_bits;
  ++metrics_.errors;
  const uint32_t entry = lvt_[static_cast<int>(Lvt::kError)];
  if ((entry & kLvtMasked) != 0 || !software_enabled()) return;
  const auto vector = static_cast<uint8_t>(entry & kLvtVectorMask);
  if (vector < 16) {  // the error vector itself is illegal: record it, do not recurse
    esr_pending_ |= kEsrReceiveIllegalVector;
    return;
  }
  set_vector(irr_, vector);
  clear_vector(tmr_, vector);
}

bool Lapic::write_eoi(unsigned, uint64_t value) {
  if (x2apic_mode() && value != 0) return false;  // SDM Vol. 3A 11.12.1.2
  end_of_interrupt();
  return true;
}

// SDM Vol. 3A 11.8.5: EOI retires the highest in-service vector; a level-triggered one (TMR
// set) is broadcast to the IOAPICs unless software suppressed the broadcast (SVR bit 12).
void Lapic::end_of_interrupt() {
  ++metrics_.eois;
  const int vector = highest_vector(isr_);
  if (vector < 0) return;
  const auto v = static_cast<uint8_t>(vector);
  clear_vector(isr_, v);
  if (!test_vector(tmr_, v)) return;
  for (int pin = 0; pin < 2; ++pin) {
    uint32_t& entry = lvt_[static_cast<int>(pin == 0 ? Lvt::kLint0 : Lvt::kLint1)];
    if ((entry & kLvtRemoteIrr) != 0 && (entry & kLvtVectorMask) == v) {
      entry &= ~kLvtRemoteIrr;
      if (lint_level_[pin]) set_lint(pin, true);  // still asserted: taken again
    }
  }
  if ((svr_ & kSvrSuppressEoiBroadcast) == 0 && router_ != nullptr) {
    ++metrics_.eoi_broadcasts;
    router_->broadcast_eoi(v);
  }
}

// SDM Vol. 3A 11.6.1: a write of the ICR (its low half in xAPIC mode) sends the IPI.
void Lapic::send_ipi() {
  ApicMessage message;
  message.vector = static_cast<uint8_t>(icr_);
  message.mode = static_cast<DeliveryMode>((icr_ >> 8) & 7);
  message.logical = (icr_ & kIcrLogical) != 0;
  message.level_triggered = (icr_ & kIcrLevelTriggered) != 0;
  message.assert_level = (icr_ & kIcrLevelAssert) != 0;
  message.shorthand = static_cast<Shorthand>((icr_ >> kIcrShorthandShift) & 3);
  message.x2apic_format = x2apic_mode();
  message.destination = static_cast<uint32_t>(x2apic_mode() ? icr_ >> 32 : icr_ >> 56);
  message.source = this;
  if (message.mode == DeliveryMode::kExtInt || message.mode == DeliveryMode::kReserved3) return;
  if ((message.mode == DeliveryMode::kFixed || message.mode == DeliveryMode::kLowestPriority) &&
      message.vector < 16) {
    signal_error(kEsrSendIllegalVector);  // SDM Vol. 3A 11.5.3, ESR bit 5
    return;
  }
  ++metrics_.ipis_sent;
  if (router_ != nullptr) {
    router_->send(message);
    return;
  }
  // Alone on the bus: only messages that name this APIC arrive.
  const bool to_self = message.shorthand == Shorthand::kSelf ||
                       message.shorthand == Shorthand::kAllIncludingSelf ||
                       (message.shorthand == Shorthand::kNone && matches_destination(message));
  if (to_self) accept(message);
}

// SDM Vol. 3A 11.6.2.1-11.6.2.3 (xAPIC physical, flat and cluster logical destinations) and
// 11.12.10 (x2APIC: 32-bit physical IDs, logical cluster in bits 31:16 of LDR).
bool Lapic::matches_destination(const ApicMessage& message) const {
  if (!globally_enabled()) return false;
  const uint32_t dest = message.destination;
  const bool broadcast = message.x2apic_format ? dest == 0xffffffff : (dest & 0xff) == 0xff;
  if (broadcast) return true;
  if (x2apic_mode()) {
    if (!message.logical) return dest == id_;
    return (dest >> 16) == (ldr_ >> 16) && (dest & ldr_ & 0xffff) != 0;
  }
  const uint32_t d = message.x2apic_format && dest > 0xff ? 0x100 : dest & 0xff;
  if (!message.logical) return d == (id_ & 0xff);
  const uint32_t logical_id = ldr_ >> 24;
  if ((dfr_ >> 28) == kDfrFlat) return (d & logical_id) != 0;
  return (d >> 4) == (logical_id >> 4) && (d & logical_id & 0xf) != 0;  // cluster model
}

}  // namespace cella::devices
