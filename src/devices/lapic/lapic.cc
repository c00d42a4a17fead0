// The local APIC's register file: the table of registers, the xAPIC page that reaches it, the
// register handlers, and reset.
#include "devices/lapic/lapic.h"

#include <algorithm>

namespace cella::devices {

using namespace lapic;

// SDM Vol. 3A Table 11-1 (xAPIC offsets) and Table 11-6 (x2APIC MSR 0x800 + offset / 16).
const Lapic::RegisterInfo* Lapic::find_register(uint16_t offset) {
  static constexpr RegisterInfo kRegisters[] = {
      {kId, 1, "ID", kBoth | kX2apicReadOnly, &Lapic::read_id, &Lapic::write_id},
      {kVersion, 1, "Version", kBoth, &Lapic::read_version, nullptr},
      {kTpr, 1, "TPR", kBoth, &Lapic::read_tpr, &Lapic::write_tpr},
      {kApr, 1, "APR", kXapic, &Lapic::read_apr, nullptr},
      {kPpr, 1, "PPR", kBoth, &Lapic::read_ppr, nullptr},
      {kEoi, 1, "EOI", kBoth, nullptr, &Lapic::write_eoi},
      {kRrd, 1, "RRD", kXapic, &Lapic::read_zero, nullptr},
      {kLdr, 1, "LDR", kBoth | kX2apicReadOnly, &Lapic::read_ldr, &Lapic::write_ldr},
      {kDfr, 1, "DFR", kXapic, &Lapic::read_dfr, &Lapic::write_dfr},
      {kSvr, 1, "SVR", kBoth, &Lapic::read_svr, &Lapic::write_svr},
      {kIsr, 8, "ISR", kBoth, &Lapic::read_isr, nullptr},
      {kTmr, 8, "TMR", kBoth, &Lapic::read_tmr, nullptr},
      {kIrr, 8, "IRR", kBoth, &Lapic::read_irr, nullptr},
      {kEsr, 1, "ESR", kBoth, &Lapic::read_esr, &Lapic::write_esr},
      {kIcrLow, 1, "ICR", kBoth, &Lapic::read_icr_low, &Lapic::write_icr_low},
      {kIcrHigh, 1, "ICR high", kXapic, &Lapic::read_icr_high, &Lapic::write_icr_high},
      {kLvtTimer, kLvtCount, "LVT", kBoth, &Lapic::read_lvt, &Lapic::write_lvt},
      {kTimerInitialCount, 1, "Initial Count", kBoth, &Lapic::read_initial_count,
       &Lapic::write_initial_count},
      {kTimerCurrentCount, 1, "Current Count", kBoth, &Lapic::read_current_count, nullptr},
      {kTimerDivide, 1, "Divide Configuration", kBoth, &Lapic::read_divide, &Lapic::write_divide},
      {kSelfIpi, 1, "SELF IPI", kX2apic, nullptr, &Lapic::write_self_ipi},
  };
  for (const RegisterInfo& r : kRegisters) {
    if (offset >= r.offset && offset < r.offset + 16 * r.count && (offset & 0xf) == 0) return &r;
  }
  return nullptr;
}

Lapic::Lapic(const LapicConfig& config, TimerQueue& timers, ApicRouter* router, ExtIntSource* pic,
             const TscSource* tsc)
    : config_(config), timers_(timers), router_(router), pic_(pic), tsc_(tsc), timer_([this] {
        on_timer();
      }) {
  reset();
}

void Lapic::reset() {
  // SDM Vol. 3A 11.4.4: after power-up the APIC is enabled at 0xfee00000.
  apic_base_ = kDefaultBase | kBaseGlobalEnable | (config_.bsp ? kBaseBsp : 0);
  id_ = config_.apic_id;
  reset_registers();
  nmi_pending_ = smi_pending_ = init_pending_ = false;
  sipi_vector_.reset();
  lint_level_ = {};
}

void Lapic::reset_registers() {
  // SDM Vol. 3A 11.4.7.1: IRR, ISR, TMR, ICR, LDR, TPR, the timer counts and divide clear,
  // DFR all ones, every LVT entry masked, SVR 0xff (software disabled). In x2APIC mode the
  // LDR is derived from the ID (SDM Vol. 3A 11.12.10.2).
  tpr_ = 0;
  ldr_ = x2apic_mode() ? ((id_ >> 4) << 16) | (1u << (id_ & 0xf)) : 0;
  dfr_ = 0xffffffff;
  svr_ = 0xff;
  esr_ = esr_pending_ = 0;
  icr_ = 0;
  lvt_.fill(kLvtMasked);
  initial_count_ = 0;
  divide_config_ = 0;
  isr_ = {};
  tmr_ = {};
  irr_ = {};
  stop_timer();
  tsc_deadline_ = 0;
  ext_int_pending_ = false;
}

bool Lapic::take_init() {
  if (!std::exchange(init_pending_, false)) return false;
  reset_registers();  // SDM Vol. 3A 11.4.7.3: INIT keeps the ID and IA32_APIC_BASE
  return true;
}

uint64_t Lapic::base_address_mask() const {
  return ((uint64_t{1} << config_.physical_address_bits) - 1) & ~(kPageSize - 1);
}

uint32_t Lapic::read_register(uint16_t offset) const {
  const RegisterInfo* r = find_register(offset);
  if (r == nullptr || r->read == nullptr) return 0;
  return (this->*r->read)((offset - r->offset) / 16);
}

bool Lapic::write_register(uint16_t offset, uint64_t value) {
  const RegisterInfo* r = find_register(offset);
  if (r == nullptr || r->write == nullptr) return false;
  return (this->*r->write)((offset - r->offset) / 16, value);
}

// SDM Vol. 3A 11.4.1: registers are 32 bits wide on 16-byte boundaries; only aligned 32-bit
// accesses are defined. Narrower reads see the bytes of the register, bytes 4-15 of each slot
// read zero; any other write is dropped.
void Lapic::read(uint64_t offset, std::span<uint8_t> data) {
  if (!xapic_mmio_active()) {  // SDM Vol. 3A 11.12.2: no MMIO interface in x2APIC mode
    std::fill(data.begin(), data.end(), uint8_t{0xff});
    return;
  }
  // Byte by byte, with the register looked up once per 16-byte slot.
  uint64_t slot_of_value = ~uint64_t{0};
  uint32_t value = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    const uint64_t at = offset + i;
    if (at >= kPageSize || (at & 0xf) >= 4) {
      data[i] = 0;
      continue;
    }
    const auto slot = static_cast<uint16_t>(at & ~uint64_t{0xf});
    if (slot != slot_of_value) {
      slot_of_value = slot;
      const RegisterInfo* r = find_register(slot);
      if (r == nullptr || (r->modes & kXapic) == 0) {
        signal_error(kEsrIllegalRegisterAddress);  // SDM Vol. 3A 11.5.3, ESR bit 7
        value = 0;
      } else {
        value = read_register(slot);
      }
    }
    data[i] = static_cast<uint8_t>(value >> (8 * (at & 3)));
  }
}

void Lapic::write(uint64_t offset, std::span<const uint8_t> data) {
  if (!xapic_mmio_active() || (offset & 0xf) != 0 || data.size() < 4 || offset >= kPageSize) {
    return;
  }
  const auto slot = static_cast<uint16_t>(offset);
  const RegisterInfo* r = find_register(slot);
  if (r == nullptr || (r->modes & kXapic) == 0) {
    signal_error(kEsrIllegalRegisterAddress);
    return;
  }
  write_register(slot, static_cast<uint32_t>(access_value(data.first(4))));
}

uint32_t Lapic::read_id(unsigned) const {
  return x2apic_mode() ? id_ : id_ << 24;
}

uint32_t Lapic::read_version(unsigned) const {
  return kVersionValue | ((kLvtCount - 1) << 16) |
         (config_.eoi_broadcast_suppression ? kVersionEoiSuppression : 0);
}

bool Lapic::write_id(unsigned, uint64_t value) {
  id_ = static_cast<uint32_t>(value) >> 24;  // SDM Vol. 3A 11.4.6: bits 31:24 (xAPIC)
  return true;
}

bool Lapic::write_tpr(unsigned, uint64_t value) {
  tpr_ = value & 0xff;
  return true;
}

bool Lapic::write_ldr(unsigned, uint64_t value) {
  ldr_ = value & 0xff000000;  // SDM Vol. 3A 11.6.2.2, Figure 11-13
  return true;
}

bool Lapic::write_dfr(unsigned, uint64_t value) {
  dfr_ = static_cast<uint32_t>(value) | kDfrReservedOnes;
  return true;
}

bool Lapic::write_svr(unsigned, uint64_t value) {
  const uint32_t writable = 0xff | kSvrSoftwareEnable | kSvrFocusCheckDisable |
                            (config_.eoi_broadcast_suppression ? kSvrSuppressEoiBroadcast : 0);
  svr_ = value & writable;
  // SDM Vol. 3A 11.4.7.2: software disabling masks every LVT entry.
  if (!software_enabled()) {
    for (uint32_t& entry : lvt_) entry |= kLvtMasked;
  }
  return true;
}

bool Lapic::write_esr(unsigned, uint64_t value) {
  if (x2apic_mode() && value != 0) return false;  // SDM Vol. 3A 11.12.1.2
  // SDM Vol. 3A 11.5.3: a write latches the errors since the previous write.
  esr_ = std::exchange(esr_pending_, 0);
  return true;
}

bool Lapic::write_icr_low(unsigned, uint64_t value) {
  icr_ = (icr_ & ~uint64_t{0xffffffff}) | (value & kIcrLowWritable);
  send_ipi();  // SDM Vol. 3A 11.6.1: writing the low doubleword sends the IPI
  return true;
}

bool Lapic::write_icr_high(unsigned, uint64_t value) {
  icr_ = (icr_ & 0xffffffff) | (uint64_t{static_cast<uint32_t>(value) & 0xff000000} << 32);
  return true;
}

bool Lapic::write_lvt(unsigned i, uint64_t value) {
  uint32_t entry = (static_cast<uint32_t>(value) & kLvtWritable[i]) | (lvt_[i] & kLvtRemoteIrr);
  if (!software_enabled()) entry |= kLvtMasked;  // SDM Vol. 3A 11.4.7.2
  if (static_cast<Lvt>(i) == Lvt::kTimer) {
    change_lvt_timer(entry);
  } else {
    lvt_[i] = entry;
  }
  return true;
}

bool Lapic::write_initial_count(unsigned, uint64_t value) {
  // SDM Vol. 3A 11.5.4.1: ignored in TSC-deadline mode.
  if (timer_mode() == TimerMode::kTscDeadline) return true;
  initial_count_ = static_cast<uint32_t>(value);
  stop_timer();
  if (initial_count_ != 0) start_counter(timers_.now_ns(), initial_count_);
  return true;
}

bool Lapic::write_divide(unsigned, uint64_t value) {
  change_divide(static_cast<uint32_t>(value) & kDivideWritable);
  return true;
}

bool Lapic::write_self_ipi(unsigned, uint64_t value) {
  if ((value & ~uint64_t{0xff}) != 0) return false;  // SDM Vol. 3A 11.12.11
  accept_fixed(static_cast<uint8_t>(value), false);
  return true;
}

}  // namespace cella::devices
