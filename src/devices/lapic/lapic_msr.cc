// The local APIC's MSRs: IA32_APIC_BASE with its mode transitions, IA32_TSC_DEADLINE, and the
// x2APIC register interface (SDM Vol. 3A 11.12), which reaches the same register table as the
// xAPIC page.
#include "devices/lapic/lapic.h"

namespace cella::devices {

using namespace lapic;

bool Lapic::owns_msr(uint32_t index) const {
  return index == x86::kMsrApicBase || index == x86::kMsrTscDeadline ||
         (index >= x86::kMsrX2apicFirst && index <= x86::kMsrX2apicLast);
}

// SDM Vol. 3A 11.12.1.2: RDMSR/WRMSR of an x2APIC register outside x2APIC mode, of a register
// that does not exist, or the wrong direction, raises #GP; so do reserved bits set on WRMSR.
x86::MsrResult Lapic::read_msr(uint32_t index) {
  if (index == x86::kMsrApicBase) return {true, apic_base_};
  if (index == x86::kMsrTscDeadline) {
    // SDM Vol. 3A 11.5.4.1: reads zero outside TSC-deadline mode.
    return {true, timer_mode() == TimerMode::kTscDeadline ? tsc_deadline_ : 0};
  }
  if (!owns_msr(index) || !x2apic_mode()) return {false};
  const auto offset = static_cast<uint16_t>((index - x86::kMsrX2apicFirst) << 4);
  if (offset == kIcrLow) return {true, icr_};  // one 64-bit register (SDM Vol. 3A 11.12.9)
  const RegisterInfo* r = find_register(offset);
  if (r == nullptr || (r->modes & kX2apic) == 0 || r->read == nullptr) return {false};
  return {true, (this->*r->read)((offset - r->offset) / 16)};
}

x86::MsrResult Lapic::write_msr(uint32_t index, uint64_t value) {
  if (index == x86::kMsrApicBase) return write_apic_base(value);
  if (index == x86::kMsrTscDeadline) {
    set_tsc_deadline(value);
    return {true};
  }
  if (!owns_msr(index) || !x2apic_mode()) return {false};
  const auto offset = static_cast<uint16_t>((index - x86::kMsrX2apicFirst) << 4);
  if (offset == kIcrLow) {
    if ((value & kX2apicIcrReserved) != 0) return {false};
    icr_ = value;
    send_ipi();
    return {true};
  }
  const RegisterInfo* r = find_register(offset);
  if (r == nullptr || (r->modes & kX2apic) == 0 || r->write == nullptr ||
      (r->modes & kX2apicReadOnly) != 0 || (value >> 32) != 0) {
    return {false};
  }
  return {(this->*r->write)((offset - r->offset) / 16, value)};
}

// SDM Vol. 3A 11.4.4 and 11.12.5, Figure 11-27: the valid mode transitions. Disabled to
// x2APIC, x2APIC to xAPIC and the EXTD-without-EN state raise #GP; so do reserved bits.
x86::MsrResult Lapic::write_apic_base(uint64_t value) {
  const uint64_t reserved =
      0x2ffull | ~(base_address_mask() | kBaseBsp | kBaseX2apicEnable | kBaseGlobalEnable);
  if ((value & reserved) != 0) return {false};
  const bool enable = (value & kBaseGlobalEnable) != 0;
  const bool extd = (value & kBaseX2apicEnable) != 0;
  const bool was_enabled = globally_enabled();
  const bool was_x2apic = x2apic_mode();
  if (extd && !enable) return {false};
  if (was_x2apic && enable && !extd) return {false};
  if (!was_enabled && extd) return {false};
  apic_base_ = (value & ~kBaseBsp) | (apic_base_ & kBaseBsp);  // BSP is the hardware's
  if (was_enabled && !enable) {
    // SDM Vol. 3A 11.4.3: a globally disabled APIC returns to its power-up state.
    id_ = config_.apic_id;
    reset_registers();
  } else if (!was_x2apic && extd) {
    // SDM Vol. 3A 11.12.5.1: entering x2APIC mode, the ID is the initial APIC ID and the
    // LDR is derived from it; the other registers keep their values.
    id_ = config_.apic_id;
    ldr_ = ((id_ >> 4) << 16) | (1u << (id_ & 0xf));
  }
  return {true};
}

}  // namespace cella::devices
