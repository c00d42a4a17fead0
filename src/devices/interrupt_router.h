// The machine's interrupt wiring: every device IrqLine ends here under a global system
// interrupt number (GSI, ACPI 6.5 5.2.13), and is forwarded to the IOAPIC input of the same
// number and, for the 16 ISA IRQs, to the 8259 pair. ISA IRQs reach the IOAPIC through the
// interrupt source overrides below (ACPI 6.5 5.2.12.5), which the MADT generator publishes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "devices/irq.h"

namespace cella::devices {

class Ioapic;

// The 8259 pair's inputs: IRQ lines 0-15 (the PIC implements this).
class IsaIrqInput {
 public:
  virtual ~IsaIrqInput() = default;
  virtual void set_irq(unsigned line, bool level) = 0;
};

// ACPI 6.5 5.2.12.5, Table 5.25: an Interrupt Source Override (bus 0 = ISA). `flags` are the
// MPS INTI flags (Table 5.26): polarity bits 1:0, trigger mode bits 3:2; 0 conforms to the bus.
struct InterruptSourceOverride {
  uint8_t source;  // the ISA IRQ
  uint32_t gsi;
  uint16_t flags;
};

// One line per override. The PIT's IRQ0 arrives at IOAPIC input 2, as on every PC chipset
// (input 0 carries the 8259's INTR for virtual-wire mode B).
inline constexpr InterruptSourceOverride kInterruptSourceOverrides[] = {
    {0, 2, 0},  // ISA IRQ0 (PIT) -> GSI 2, bus-conforming: edge, active high
};

// The GSI an ISA IRQ arrives at, and the ISA IRQ a GSI carries (nullopt: none, for GSI 0
// whose ISA IRQ is overridden, and GSIs 16 and up).
uint32_t isa_irq_to_gsi(
    unsigned irq, std::span<const InterruptSourceOverride> overrides = kInterruptSourceOverrides);
std::optional<unsigned> gsi_to_isa_irq(
    uint32_t gsi, std::span<const InterruptSourceOverride> overrides = kInterruptSourceOverrides);

class InterruptRouter final : public InterruptSink {
 public:
  struct Metrics {
    uint64_t level_changes = 0;
    uint64_t unrouted = 0;  // GSIs that reach neither controller
  };

  // Either controller may be null (a machine without a PIC, or a test).
  InterruptRouter(Ioapic* ioapic, IsaIrqInput* pic) : ioapic_(ioapic), pic_(pic) {}

  void set_gsi(uint32_t gsi, bool level) override;

  const Metrics& metrics() const { return metrics_; }

 private:
  Ioapic* ioapic_;
  IsaIrqInput* pic_;
  Metrics metrics_;
};

}  // namespace cella::devices
