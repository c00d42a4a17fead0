// Where a PCI function's message signalled interrupts go: the machine turns the memory write
// of `data` to `address` into an interrupt (on a PC, a message on the APIC bus).
#pragma once

#include <cstdint>

namespace cella::pci {

class MsiSink {
 public:
  virtual ~MsiSink() = default;
  virtual void send_msi(uint64_t address, uint32_t data) = 0;
};

}  // namespace cella::pci
