#include "machine/pc_platform.h"

#include "base/log.h"
#include "devices/lapic/msi_message.h"
#include "machine/memory_map.h"

namespace cella::machine {
namespace {

// ACPI PM fixed hardware at the ports the FADT declares (acpi::AcpiConfig defaults).
constexpr uint16_t kAcpiPmPort = 0x600;
constexpr uint8_t kS5SleepType = 5;
constexpr uint32_t kSciIrq = 9;

uint64_t all_ones(unsigned size) {
  return size >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1;
}

devices::LapicConfig boot_lapic_config(const PlatformConfig& config) {
  devices::LapicConfig lapic;
  lapic.apic_id = 0;
  lapic.bsp = true;
  lapic.timer_hz = config.tsc_hz;  // CPUID 15H reports the TSC as the core crystal clock
  lapic.physical_address_bits = config.physical_address_bits;
  return lapic;
}

}  // namespace

PcPlatform::PcPlatform(const PlatformConfig& config, devices::TimerQueue& timers,
                       const devices::TscSource& tsc, PlatformEvents events)
    : config_(config),
      timers_(timers),
      events_(std::move(events)),
      lapic_(boot_lapic_config(config), timers, &apic_bus_, &pic_inputs_, &tsc),
      pit_(timers, isa_line(devices::Pit8254::kIrq)),
      port61_(timers, pit_),
      rtc_(timers, isa_line(devices::CmosRtc::kIrq)),
      uart_(timers, isa_line(devices::Uart16550::kCom1Irq), config.serial),
      i8042_(isa_line(devices::I8042::kKeyboardIrq), isa_line(devices::I8042::kAuxIrq)),
      acpi_pm_(timers, isa_line(kSciIrq), kS5SleepType, [this] {
        if (events_.power_off) events_.power_off();
      }) {
  apic_bus_.attach(lapic_);
  apic_bus_.attach(ioapic_);
  i8042_.set_on_reset([this] {
    if (events_.reset) events_.reset();
  });
  rtc_.set_memory_size(config.below_4g_ram, config.above_4g_ram);
}

PcPlatform::~PcPlatform() = default;

Result<void> PcPlatform::map_ports(devices::Device& device, uint16_t port, uint16_t length) {
  if (auto mapped = ports_.add(port, length, device); !mapped) {
    return mapped.error().context(device.name());
  }
  return ok();
}

template <size_t N>
Result<void> PcPlatform::map_windows(devices::Device& device,
                                     const std::array<devices::PortRange, N>& ranges) {
  for (const devices::PortRange& range : ranges) {
    windows_.push_back(std::make_unique<devices::DeviceWindow>(device, range.offset));
    CELLA_TRY(map_ports(*windows_.back(), range.port, range.length));
  }
  return ok();
}

Result<void> PcPlatform::attach() {
  CELLA_TRY(map_windows(pic_, devices::DualPic::kPorts));
  CELLA_TRY(map_ports(pit_, devices::Pit8254::kPort, devices::Pit8254::kLength));
  CELLA_TRY(map_ports(port61_, devices::SystemControlPortB::kPort, 1));
  CELLA_TRY(map_ports(rtc_, devices::CmosRtc::kPort, devices::CmosRtc::kLength));
  CELLA_TRY(map_ports(uart_, devices::Uart16550::kCom1Port, 8));
  CELLA_TRY(map_windows(i8042_, devices::I8042::kPorts));
  CELLA_TRY(map_ports(port92_, devices::SystemControlPortA::kPort, 1));
  CELLA_TRY(map_ports(acpi_pm_, kAcpiPmPort, devices::AcpiPm::kRegisterBytes));
  CELLA_TRY(map_ports(config_ports_, pci::ConfigPorts::kBase, pci::ConfigPorts::kLength));
  CELLA_TRY(host_bridge_.attach(pci_bus_));
  CELLA_TRY(mmio_.add(memory_map::kEcamBase, ecam_.size(), ecam_));
  CELLA_TRY(mmio_.add(devices::Ioapic::kDefaultBase, devices::Ioapic::kMmioSize, ioapic_));
  return ok();
}

void PcPlatform::firmware_setup() {
  // Intel 8254 datasheet, control word: counter 0 (bits 7:6 = 00), LSB then MSB (5:4 = 11),
  // mode 3 (3:1 = 011), binary; then the count 0, which means 65536.
  constexpr uint8_t kCounter0Mode3 = 0x36;
  port_write(devices::Pit8254::kPort + devices::Pit8254::kControlOffset, 1, kCounter0Mode3);
  port_write(devices::Pit8254::kPort, 1, 0);
  port_write(devices::Pit8254::kPort, 1, 0);
}

Result<devices::IrqLine> PcPlatform::attach_pci_function(uint8_t slot, pci::ConfigSpace& config,
                                                         devices::Device& bar_window) {
  CELLA_TRY(pci_bus_.add(slot, 0, config));
  config.set_bar_listener([this, &bar_window](const pci::BarChange& change) {
    if (change.kind == pci::BarKind::kIo) return;  // no port I/O BARs on these functions
    if (change.old_base) {
      // Only this function's own mapping: a BAR the guest had placed over another device was
      // never mapped, and that device's range stays.
      const devices::Bus::Mapping* old = mmio_.find(*change.old_base);
      if (old != nullptr && old->device == &bar_window && old->base == *change.old_base) {
        (void)mmio_.remove(*change.old_base);
      }
    }
    if (!change.new_base) return;
    if (auto mapped = mmio_.add(*change.new_base, change.size, bar_window); !mapped) {
      ++metrics_.bar_conflicts;
      log::warn("pci: {} BAR {} at {:#x} overlaps another device; it stays unmapped",
                bar_window.name(), change.index, *change.new_base);
    }
  });
  // Firmware's job (PCI Firmware 3.2 2.x: resources assigned before the OS loads): each
  // memory BAR gets a naturally aligned address in the 32-bit window, then decoding is on.
  for (unsigned bar = 0; bar < pci::kBarCount; ++bar) {
    const auto definition = config.bar_definition(bar);
    if (!definition || definition->kind == pci::BarKind::kIo) continue;
    const uint64_t size = definition->size;
    const uint64_t base = (next_bar_address_ + size - 1) & ~(size - 1);
    if (base + size - 1 > memory_map::kPciWindow32Last) {
      return make_error("pci: no room for BAR {} of slot {} in the 32-bit window", bar, slot);
    }
    const uint16_t reg = static_cast<uint16_t>(pci::reg::kBar0 + 4 * bar);
    config.write(reg, 4, static_cast<uint32_t>(base));
    if (definition->kind == pci::BarKind::kMemory64) config.write(reg + 4, 4, 0);
    next_bar_address_ = base + size;
  }
  config.write(pci::reg::kCommand, 2, pci::kCommandMemorySpace | pci::kCommandBusMaster);
  return pci_bus_.intx_line(router_, slot, 0);
}

void PcPlatform::send_msi(uint64_t address, uint32_t data) {
  const std::optional<devices::ApicMessage> message = devices::decode_msi(address, data);
  if (!message) {
    ++metrics_.stray_msi_writes;
    return;
  }
  ++metrics_.msi_messages;
  apic_bus_.send(*message);
  accessed();  // the local APIC may have an interrupt for the vCPU now
}

acpi::AcpiConfig PcPlatform::acpi_config() const {
  acpi::AcpiConfig acpi;
  acpi.cpus = 1;
  acpi.local_apic_address = 0xfee00000;
  acpi.ioapic_id = kIoapicId;
  acpi.ioapic_address = devices::Ioapic::kDefaultBase;
  for (const devices::InterruptSourceOverride& o : devices::kInterruptSourceOverrides) {
    acpi.overrides.push_back({o.source, o.gsi, o.flags});
  }
  // Level-triggered, active-high SCI (ACPI 6.5 5.2.9: the SCI is sharable, level, active low
  // by default; the override publishes how this platform drives it).
  acpi.overrides.push_back({static_cast<uint8_t>(kSciIrq), kSciIrq, 0x000d});
  acpi.pm1a_event_port = kAcpiPmPort;
  acpi.pm1a_control_port = kAcpiPmPort + 4;
  acpi.pm_timer_port = kAcpiPmPort + 8;
  acpi.sci_irq = kSciIrq;
  acpi.s5_sleep_type = kS5SleepType;
  acpi.ecam_base = memory_map::kEcamBase;
  acpi.ecam_last_bus = 0;
  acpi.pci_window32_first = memory_map::kPciWindow32First;
  acpi.pci_window32_last = memory_map::kPciWindow32Last;
  for (uint8_t slot = 1; slot < 32; ++slot) {
    for (uint8_t pin = 1; pin <= 4; ++pin) {
      acpi.pci_routes.push_back({slot, static_cast<uint8_t>(pin - 1), pci::intx_gsi(slot, pin)});
    }
  }
  return acpi;
}

uint64_t PcPlatform::mmio_read(uint64_t physical, unsigned size) {
  ++metrics_.mmio_accesses;
  uint8_t data[8] = {};
  bool claimed;
  if (lapic_page(physical)) {
    lapic_.read(physical - lapic_.mmio_base(), {data, size});
    claimed = true;
  } else {
    claimed = mmio_.read(physical, {data, size});
  }
  accessed();
  if (!claimed) {
    ++metrics_.unclaimed_mmio_accesses;
    return all_ones(size);
  }
  return devices::access_value({data, size});
}

void PcPlatform::mmio_write(uint64_t physical, unsigned size, uint64_t value) {
  ++metrics_.mmio_accesses;
  uint8_t data[8];
  devices::fill_access({data, size}, value);
  if (lapic_page(physical)) {
    lapic_.write(physical - lapic_.mmio_base(), {data, size});
  } else if (!mmio_.write(physical, {data, size})) {
    ++metrics_.unclaimed_mmio_accesses;
  }
  accessed();
}

uint32_t PcPlatform::port_read(uint16_t port, unsigned size) {
  ++metrics_.port_accesses;
  uint8_t data[4] = {};
  const bool claimed = ports_.read(port, {data, size});
  accessed();
  if (!claimed) {
    ++metrics_.unclaimed_port_accesses;
    return static_cast<uint32_t>(all_ones(size));
  }
  return static_cast<uint32_t>(devices::access_value({data, size}));
}

void PcPlatform::port_write(uint16_t port, unsigned size, uint32_t value) {
  ++metrics_.port_accesses;
  uint8_t data[4];
  devices::fill_access({data, size}, value);
  if (!ports_.write(port, {data, size})) ++metrics_.unclaimed_port_accesses;
  accessed();
}

bool PcPlatform::read_msr(uint32_t index, uint64_t& value) {
  if (!lapic_.owns_msr(index)) return false;
  const x86::MsrResult result = lapic_.read_msr(index);
  value = result.value;
  return result.ok;
}

bool PcPlatform::write_msr(uint32_t index, uint64_t value) {
  if (!lapic_.owns_msr(index)) return false;
  const bool ok = lapic_.write_msr(index, value).ok;
  accessed();
  return ok;
}

}  // namespace cella::machine
