// A local APIC (Intel SDM Vol. 3A chapter 11), one per vCPU: the xAPIC MMIO page (a Device,
// mapped by the machine at mmio_base() while xapic_mmio_active()) and the x2APIC MSRs, the
// IRR/ISR/TMR priority logic, EOI (with the broadcast of level-triggered EOIs to the IOAPICs),
// the APIC timer (one-shot, periodic, TSC-deadline) on a TimerQueue, the local vector table
// (LINT0 as the 8259's virtual wire, LINT1 as NMI), IPIs through an ApicRouter, and
// IA32_APIC_BASE. The CPU sees it as an x86::InterruptController.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <utility>

#include "cpu/x86/interrupt_controller.h"
#include "devices/device.h"
#include "devices/lapic/apic_message.h"
#include "devices/lapic/lapic_registers.h"
#include "devices/lapic/vector_bits.h"
#include "devices/timer_queue.h"

namespace cella::devices {

struct LapicConfig {
  uint32_t apic_id = 0;  // the initial APIC ID (CPUID.01H:EBX[31:24], CPUID.0BH:EDX)
  bool bsp = false;      // IA32_APIC_BASE.BSP
  // The APIC timer's input clock before the divider (SDM Vol. 3A 11.5.4: the bus or core
  // crystal clock); CPUID leaf 15H should report the same figure.
  uint64_t timer_hz = 1'000'000'000;
  // SDM Vol. 3A 11.8.5: advertise directed EOI (version bit 24, SVR bit 12). Only with an
  // IOAPIC that has an EOI register; the 82093AA has none, so it is off by default.
  bool eoi_broadcast_suppression = false;
  unsigned physical_address_bits = 46;  // MAXPHYADDR: higher IA32_APIC_BASE bits are reserved
};

class Lapic final : public Device, public x86::InterruptController {
 public:
  struct Metrics {
    uint64_t interrupts_accepted = 0;   // fixed/lowest-priority vectors set in IRR
    uint64_t interrupts_delivered = 0;  // acknowledged by the CPU (IRR to ISR, or ExtINT)
    uint64_t spurious = 0;              // acknowledges that found nothing deliverable
    uint64_t eois = 0;
    uint64_t eoi_broadcasts = 0;
    uint64_t ipis_sent = 0;
    uint64_t timer_expirations = 0;
    uint64_t errors = 0;  // ESR bits raised
  };

  // `router` carries IPIs and EOI broadcasts; `pic` is the 8259 on LINT0 and `tsc` the guest
  // TSC for the TSC-deadline mode. Each may be null (no IPIs leave, no ExtINT, no TSC-deadline).
  Lapic(const LapicConfig& config, TimerQueue& timers, ApicRouter* router = nullptr,
        ExtIntSource* pic = nullptr, const TscSource* tsc = nullptr);

  // Device: the 4 KiB xAPIC register page (SDM Vol. 3A 11.4.1).
  std::string_view name() const override { return "lapic"; }
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;
  void reset() override;
  void save(snapshot::StateWriter& out) const override;
  Result<void> load(snapshot::StateReader& in) override;

  // x86::InterruptController.
  bool has_interrupt() const override;
  uint8_t acknowledge() override;
  bool nmi_pending() const override { return nmi_pending_; }
  bool take_nmi() override { return std::exchange(nmi_pending_, false); }
  bool smi_pending() const override { return smi_pending_; }
  bool take_smi() override { return std::exchange(smi_pending_, false); }
  bool init_pending() const override { return init_pending_; }
  bool take_init() override;
  std::optional<uint8_t> take_sipi() override { return std::exchange(sipi_vector_, std::nullopt); }
  bool owns_msr(uint32_t index) const override;
  x86::MsrResult read_msr(uint32_t index) override;
  x86::MsrResult write_msr(uint32_t index, uint64_t value) override;
  uint8_t cr8() const override { return static_cast<uint8_t>(tpr_ >> 4); }
  void set_cr8(uint8_t value) override { tpr_ = (value & 0xfu) << 4; }

  // The APIC bus side: whether a message's destination names this APIC (SDM Vol. 3A
  // 11.6.2.1 physical, 11.6.2.2 logical, 11.12.10 x2APIC; shorthands are the router's), and
  // the acceptance of a message the router delivers here.
  bool matches_destination(const ApicMessage& message) const;
  void accept(const ApicMessage& message);
  // The LINT0/LINT1 pins (SDM Vol. 3A 11.5.1); LINT0 in ExtINT mode polls the 8259 instead.
  void set_lint(int pin, bool level);

  uint64_t apic_base() const { return apic_base_; }
  uint64_t mmio_base() const { return apic_base_ & ~(lapic::kPageSize - 1) & base_address_mask(); }
  bool globally_enabled() const { return (apic_base_ & lapic::kBaseGlobalEnable) != 0; }
  bool x2apic_mode() const { return (apic_base_ & lapic::kBaseX2apicEnable) != 0; }
  bool xapic_mmio_active() const { return globally_enabled() && !x2apic_mode(); }
  bool software_enabled() const { return (svr_ & lapic::kSvrSoftwareEnable) != 0; }
  uint32_t apic_id() const { return id_; }
  uint8_t processor_priority() const;  // PPR (SDM Vol. 3A 11.8.3.1)
  const Metrics& metrics() const { return metrics_; }

 private:
  // One row of the register table (lapic.cc).
  struct RegisterInfo {
    uint16_t offset;
    uint8_t count;  // consecutive 16-byte registers (ISR, TMR, IRR, the LVT)
    const char* name;
    uint8_t modes;                                  // lapic::kXapic, kX2apic, kX2apicReadOnly
    uint32_t (Lapic::*read)(unsigned index) const;  // null: write-only (xAPIC reads 0)
    bool (Lapic::*write)(unsigned index, uint64_t value);  // null: read-only
  };
  static const RegisterInfo* find_register(uint16_t offset);

  // Register file (lapic.cc).
  uint32_t read_register(uint16_t offset) const;
  bool write_register(uint16_t offset, uint64_t value);  // false: x2APIC #GP
  uint32_t read_id(unsigned) const;
  uint32_t read_version(unsigned) const;
  uint32_t read_tpr(unsigned) const { return tpr_; }
  uint32_t read_apr(unsigned) const;
  uint32_t read_ppr(unsigned) const { return processor_priority(); }
  uint32_t read_zero(unsigned) const { return 0; }
  uint32_t read_ldr(unsigned) const { return ldr_; }
  uint32_t read_dfr(unsigned) const { return dfr_; }
  uint32_t read_svr(unsigned) const { return svr_; }
  uint32_t read_isr(unsigned i) const { return isr_[i]; }
  uint32_t read_tmr(unsigned i) const { return tmr_[i]; }
  uint32_t read_irr(unsigned i) const { return irr_[i]; }
  uint32_t read_esr(unsigned) const { return esr_; }
  uint32_t read_icr_low(unsigned) const { return static_cast<uint32_t>(icr_); }
  uint32_t read_icr_high(unsigned) const { return static_cast<uint32_t>(icr_ >> 32); }
  uint32_t read_lvt(unsigned i) const { return lvt_[i]; }
  uint32_t read_initial_count(unsigned) const { return initial_count_; }
  uint32_t read_current_count(unsigned) const;
  uint32_t read_divide(unsigned) const { return divide_config_; }
  bool write_id(unsigned, uint64_t value);
  bool write_tpr(unsigned, uint64_t value);
  bool write_eoi(unsigned, uint64_t value);
  bool write_ldr(unsigned, uint64_t value);
  bool write_dfr(unsigned, uint64_t value);
  bool write_svr(unsigned, uint64_t value);
  bool write_esr(unsigned, uint64_t value);
  bool write_icr_low(unsigned, uint64_t value);
  bool write_icr_high(unsigned, uint64_t value);
  bool write_lvt(unsigned i, uint64_t value);
  bool write_initial_count(unsigned, uint64_t value);
  bool write_divide(unsigned, uint64_t value);
  bool write_self_ipi(unsigned, uint64_t value);
  x86::MsrResult write_apic_base(uint64_t value);
  uint64_t base_address_mask() const;
  void reset_registers();  // the INIT state (SDM Vol. 3A 11.4.7.3)

  // Interrupt logic (lapic_irq.cc).
  void accept_fixed(uint8_t vector, bool level_triggered);
  void deliver_lvt(lapic::Lvt entry);
  void signal_error(uint32_t esr_bits);
  void send_ipi();
  void end_of_interrupt();
  bool ext_int_ready() const;

  // The APIC timer (lapic_timer.cc).
  lapic::TimerMode timer_mode() const;
  uint64_t timer_divisor() const;
  uint64_t ns_for_ticks(uint64_t ticks) const;
  uint64_t ticks_since(uint64_t start_ns) const;
  void start_counter(uint64_t start_ns, uint32_t count);
  uint64_t next_expiry_ticks() const;
  void arm_counter();
  void stop_timer();
  void on_timer();
  void set_tsc_deadline(uint64_t deadline);
  void arm_tsc_deadline();
  void change_divide(uint32_t divide_config);
  void change_lvt_timer(uint32_t value);

  LapicConfig config_;
  TimerQueue& timers_;
  ApicRouter* router_;
  ExtIntSource* pic_;
  const TscSource* tsc_;
  Timer timer_;

  uint64_t apic_base_ = 0;
  uint32_t id_ = 0;
  uint32_t tpr_ = 0;
  uint32_t ldr_ = 0;
  uint32_t dfr_ = 0;
  uint32_t svr_ = 0;
  uint32_t esr_ = 0;          // the readable ESR, latched by the last write
  uint32_t esr_pending_ = 0;  // errors since that write
  uint64_t icr_ = 0;
  std::array<uint32_t, lapic::kLvtCount> lvt_{};
  uint32_t initial_count_ = 0;
  uint32_t divide_config_ = 0;
  lapic::VectorBits isr_{}, tmr_{}, irr_{};
  // Timer: counting down from start_count_ since counter_start_ns_, with periods_ expiries
  // (and reloads) since; the TSC deadline.
  bool counter_running_ = false;
  uint64_t counter_start_ns_ = 0;
  uint32_t start_count_ = 0;
  uint64_t periods_ = 0;
  uint64_t tsc_deadline_ = 0;
  bool nmi_pending_ = false;
  bool smi_pending_ = false;
  bool init_pending_ = false;
  bool ext_int_pending_ = false;  // an ExtINT message (from the IOAPIC) awaiting the 8259
  std::optional<uint8_t> sipi_vector_;
  std::array<bool, 2> lint_level_{};
  Metrics metrics_;
};

}  // namespace cella::devices
