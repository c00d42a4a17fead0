// The ACPI tables Cella gives a guest (ACPI 6.5 chapter 5): RSDP -> XSDT -> FADT (-> FACS,
// DSDT), MADT, MCFG. They describe the machine the platform devices make: local APICs and the
// IOAPIC with the ISA overrides, the ACPI PM registers (so `poweroff` reaches S5), the PCI root
// bridge with its windows and INTx routing, and the ECAM window.
#pragma once

#include <cstdint>
#include <vector>

namespace cella::machine::acpi {

// MADT Interrupt Source Override (ACPI 6.5 5.2.12.5): ISA IRQ `source` arrives on `gsi`.
struct InterruptOverride {
  uint8_t source;
  uint32_t gsi;
  uint16_t flags;  // MPS INTI flags: bits 1:0 polarity, 3:2 trigger (0 = bus default)
};

// A PCI INTx route (ACPI 6.5 6.2.13 _PRT): device `slot`, pin 0-3 (INTA-INTD) -> `gsi`.
struct PciRoute {
  uint8_t slot;
  uint8_t pin;
  uint32_t gsi;
};

struct AcpiConfig {
  int cpus = 1;  // local APIC IDs 0..cpus-1
  uint32_t local_apic_address = 0xfee00000;
  uint8_t ioapic_id = 0;  // after the CPUs' APIC IDs by default: set by the machine
  uint32_t ioapic_address = 0xfec00000;
  std::vector<InterruptOverride> overrides;
  // ACPI PM registers in port I/O (FADT PM1a_EVT_BLK, PM1a_CNT_BLK, PM_TMR_BLK) and the SCI.
  uint16_t pm1a_event_port = 0x600;    // 4 bytes: PM1 status, PM1 enable
  uint16_t pm1a_control_port = 0x604;  // 2 bytes
  uint16_t pm_timer_port = 0x608;      // 4 bytes, 24-bit counter at 3.579545 MHz
  uint16_t sci_irq = 9;
  uint8_t s5_sleep_type = 5;         // SLP_TYP written to PM1a_CNT for S5
  uint8_t rtc_century_index = 0x32;  // FADT CENTURY: the CMOS byte holding the century
  // PCI: ECAM for bus 0..ecam_last_bus, the 32-bit and 64-bit memory windows, INTx routes.
  uint64_t ecam_base = 0xb0000000;
  uint8_t ecam_last_bus = 0;
  uint32_t pci_window32_first = 0xc0000000, pci_window32_last = 0xfebfffff;
  uint64_t pci_window64_first = 0, pci_window64_last = 0;  // empty when last == 0
  std::vector<PciRoute> pci_routes;
};

// The tables laid out for guest-physical address `base`: the RSDP first (so `base` is the
// RSDP's address: it must be 16-byte aligned, and below 1 MiB in 0xe0000-0xfffff for guests
// that scan for it), then the others, 64-byte aligned where the spec requires (FACS).
struct AcpiBlob {
  uint64_t base = 0;
  std::vector<uint8_t> bytes;
  uint64_t rsdp_address() const { return base; }
};

AcpiBlob build_acpi_tables(const AcpiConfig& config, uint64_t base);

}  // namespace cella::machine::acpi
