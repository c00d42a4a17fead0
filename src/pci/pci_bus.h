// PCI bus 0: the registry of functions by device and function number (PCI Local Bus 3.0
// 3.2.2.3), the configuration cycles the host bridge's access mechanisms turn into, and the
// routing of INTx pins to GSIs.
#pragma once

#include <array>
#include <cstdint>

#include "base/result.h"
#include "devices/irq.h"
#include "pci/config_space.h"
#include "snapshot/state_stream.h"

namespace cella::pci {

// The INTx routing the machine's ACPI _PRT declares: device d's INTx pin p (1-4) reaches
// GSI kIntxGsiBase + (d + p - 1) mod 4, the conventional swizzle over four IOAPIC inputs
// (PCI-to-PCI Bridge Architecture 1.2 9.1, Table 9-1, applied at the root).
inline constexpr uint32_t kIntxGsiBase = 16;
uint32_t intx_gsi(uint8_t device, uint8_t pin);

class PciBus {
 public:
  static constexpr unsigned kDevices = 32;
  static constexpr unsigned kFunctions = 8;

  struct Metrics {
    uint64_t config_reads = 0;
    uint64_t config_writes = 0;
    uint64_t unclaimed = 0;  // accesses to absent functions
  };

  // Registers `config` as device:function; refuses taken or out-of-range numbers. Sets the
  // multi-function bit of function 0 when a device has more than one (6.2.1), and the
  // interrupt line to the routed GSI for functions with an INTx pin.
  Result<void> add(uint8_t device, uint8_t function, ConfigSpace& config);
  ConfigSpace* find(uint8_t device, uint8_t function) const;
  // An IrqLine for the INTx pin of device:function, routed as intx_gsi says.
  devices::IrqLine intx_line(devices::InterruptSink& sink, uint8_t device, uint8_t function) const;

  // A configuration cycle on bus 0. An absent function reads all ones (a master abort: its
  // vendor ID reads 0xffff, 3.2.2.3.2) and ignores writes.
  uint32_t read(uint8_t device, uint8_t function, uint16_t offset, unsigned size);
  void write(uint8_t device, uint8_t function, uint16_t offset, unsigned size, uint32_t value);

  // A "pci-bus" section with each registered function's configuration space, in slot order.
  void save(snapshot::StateWriter& out) const;
  Result<void> load(snapshot::StateReader& in);

  const Metrics& metrics() const { return metrics_; }

 private:
  void update_multifunction(uint8_t device);
  std::array<ConfigSpace*, kDevices * kFunctions> functions_{};
  Metrics metrics_;
};

}  // namespace cella::pci
