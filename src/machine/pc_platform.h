// PcPlatform: the devices of a Cella PC and how they are wired, and the x86::Platform the
// vCPU sees. One object per machine; it owns
//   - the port I/O and MMIO buses (devices/bus.h);
//   - the interrupt fabric: every IrqLine ends at the InterruptRouter, which feeds the 8259
//     pair and the IOAPIC; the IOAPIC and the local APIC talk over the ApicBus; the 8259's
//     INTR reaches the local APIC's LINT0 (ExtINT, the "virtual wire");
//   - the legacy devices at their standard ports: 8259 pair, 8254 PIT and port 0x61, CMOS
//     RTC, 16550A UART on COM1, i8042 (reset line) and port 0x92, ACPI PM registers;
//   - the PCI host bridge with configuration mechanism #1 and ECAM;
//   - the boot CPU's local APIC (its xAPIC page is mapped while the guest has it enabled).
// The platform knows nothing of the CPU engine; events that concern the whole machine (power
// off, reset) leave through PlatformEvents.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "cpu/x86/platform.h"
#include "devices/acpi_pm/acpi_pm.h"
#include "devices/bus.h"
#include "devices/chardev.h"
#include "devices/device_window.h"
#include "devices/i8042/i8042.h"
#include "devices/i8042/port92.h"
#include "devices/interrupt_router.h"
#include "devices/ioapic/ioapic.h"
#include "devices/lapic/apic_bus.h"
#include "devices/lapic/lapic.h"
#include "devices/pic8259/dual_pic.h"
#include "devices/pit8254/pit8254.h"
#include "devices/pit8254/port61.h"
#include "devices/rtc/cmos_rtc.h"
#include "devices/timer_queue.h"
#include "devices/uart16550/uart16550.h"
#include "machine/acpi/tables.h"
#include "machine/memory_map.h"
#include "pci/config_access.h"
#include "pci/host_bridge.h"
#include "pci/msi_sink.h"
#include "pci/pci_bus.h"

namespace cella::machine {

// What the platform reports to the machine. Each callback may be empty.
struct PlatformEvents {
  std::function<void()> power_off;  // the guest entered S5
  std::function<void()> reset;      // the guest pulsed the reset line
  // After every access of the vCPU to a device: interrupt lines may have moved.
  std::function<void()> after_access;
};

struct PlatformConfig {
  uint64_t below_4g_ram = 0, above_4g_ram = 0;  // for the CMOS memory-size bytes
  uint64_t tsc_hz = 0;                          // the guest TSC (TSC-deadline timer) and the
                                                // APIC timer's input clock (CPUID 15H)
  unsigned physical_address_bits = 0;           // MAXPHYADDR, as the vCPU's CPUID says
  devices::CharBackend* serial = nullptr;       // COM1's other end
};

class PcPlatform final : public x86::Platform, public pci::MsiSink {
 public:
  // `tsc` is the guest's time stamp counter (the local APIC's TSC-deadline mode).
  PcPlatform(const PlatformConfig& config, devices::TimerQueue& timers,
             const devices::TscSource& tsc, PlatformEvents events);
  ~PcPlatform() override;
  PcPlatform(const PcPlatform&) = delete;
  PcPlatform& operator=(const PcPlatform&) = delete;

  // Maps every device; an error means two devices claim the same range (a wiring bug).
  Result<void> attach();
  // What PC firmware leaves behind for the kernel it boots, through the devices' registers:
  // PIT counter 0 running in mode 3 with count 65536 (the 18.2 Hz BIOS tick), so the guest's
  // first reprogramming does not start with a spurious IRQ0 edge.
  void firmware_setup();

  // Plugs a PCI function into `slot` of bus 0 (1-31): registers its configuration space, wires
  // its INTx pin through the _PRT routing to the IOAPIC, and maps `bar_window` on the MMIO
  // bus wherever its memory BARs decode. Like PC firmware, the platform places the BARs in
  // the 32-bit PCI window and enables memory decoding, so the guest finds them assigned.
  // Returns the function's INTx line.
  Result<devices::IrqLine> attach_pci_function(uint8_t slot, pci::ConfigSpace& config,
                                               devices::Device& bar_window);

  // pci::MsiSink: an MSI/MSI-X write becomes a message on the APIC bus (SDM Vol. 3A 11.11).
  void send_msi(uint64_t address, uint32_t data) override;

  // The ACPI description of this platform (machine/acpi/tables.h).
  acpi::AcpiConfig acpi_config() const;

  // x86::Platform.
  uint64_t mmio_read(uint64_t physical, unsigned size) override;
  void mmio_write(uint64_t physical, unsigned size, uint64_t value) override;
  uint32_t port_read(uint16_t port, unsigned size) override;
  void port_write(uint16_t port, unsigned size, uint32_t value) override;
  bool read_msr(uint32_t index, uint64_t& value) override;
  bool write_msr(uint32_t index, uint64_t value) override;

  devices::Lapic& lapic() { return lapic_; }
  devices::Uart16550& serial() { return uart_; }

  struct Metrics {
    uint64_t port_accesses = 0;
    uint64_t mmio_accesses = 0;
    uint64_t unclaimed_port_accesses = 0;  // open bus
    uint64_t unclaimed_mmio_accesses = 0;
    uint64_t msi_messages = 0;
    uint64_t stray_msi_writes = 0;  // MSI writes outside the interrupt window
    uint64_t bar_conflicts = 0;     // BARs the guest placed over another device
  };
  const Metrics& metrics() const { return metrics_; }

 private:
  // The 8259 pair seen from the router (ISA inputs) and from the local APIC (ExtINT source).
  class PicInputs final : public devices::IsaIrqInput, public devices::ExtIntSource {
   public:
    explicit PicInputs(devices::DualPic& pic) : pic_(pic) {}
    void set_irq(unsigned line, bool level) override { pic_.set_irq(line, level); }
    bool interrupt_output() const override { return pic_.interrupt_output(); }
    uint8_t acknowledge() override { return pic_.acknowledge(); }

   private:
    devices::DualPic& pic_;
  };

  devices::IrqLine isa_line(uint32_t irq) {
    return devices::IrqLine(router_, devices::isa_irq_to_gsi(irq));
  }
  Result<void> map_ports(devices::Device& device, uint16_t port, uint16_t length);
  template <size_t N>
  Result<void> map_windows(devices::Device& device,
                           const std::array<devices::PortRange, N>& ranges);
  void accessed() {
    if (events_.after_access) events_.after_access();
  }
  bool lapic_page(uint64_t physical) const {
    return lapic_.xapic_mmio_active() && physical - lapic_.mmio_base() < 0x1000;
  }

  PlatformConfig config_;
  devices::TimerQueue& timers_;
  PlatformEvents events_;
  devices::Bus ports_{"port I/O"};
  devices::Bus mmio_{"MMIO"};

  devices::ApicBus apic_bus_;
  devices::DualPic pic_;
  PicInputs pic_inputs_{pic_};
  devices::Ioapic ioapic_{&apic_bus_, kIoapicId};
  devices::InterruptRouter router_{&ioapic_, &pic_inputs_};
  devices::Lapic lapic_;

  devices::Pit8254 pit_;
  devices::SystemControlPortB port61_;
  devices::CmosRtc rtc_;
  devices::Uart16550 uart_;
  devices::I8042 i8042_;
  devices::SystemControlPortA port92_{i8042_};
  devices::AcpiPm acpi_pm_;

  pci::PciBus pci_bus_;
  pci::HostBridge host_bridge_;
  pci::ConfigPorts config_ports_{pci_bus_};
  pci::Ecam ecam_{pci_bus_};

  std::vector<std::unique_ptr<devices::DeviceWindow>> windows_;
  uint64_t next_bar_address_ = memory_map::kPciWindow32First;
  Metrics metrics_;

  static constexpr uint8_t kIoapicId = 1;  // after the boot CPU's APIC ID 0
};

}  // namespace cella::machine
