// Platform: what a virtual CPU sees of its machine, whatever the engine. Port I/O, MMIO (every
// guest-physical access outside RAM) and the MSRs that belong to devices (the local APIC) go
// through it; the machine implements it over its buses. Engines never include device headers.
#pragma once

#include <cstdint>

namespace cella::x86 {

class Platform {
 public:
  virtual ~Platform() = default;

  // MMIO: `size` is 1, 2, 4 or 8 and the access does not cross an 8-byte boundary (the CPU
  // splits larger or misaligned accesses). An address no device claims reads as all ones and
  // ignores writes (the PC's open bus).
  virtual uint64_t mmio_read(uint64_t physical, unsigned size) = 0;
  virtual void mmio_write(uint64_t physical, unsigned size, uint64_t value) = 0;

  // Port I/O (SDM Vol. 1 19.2): `size` is 1, 2 or 4.
  virtual uint32_t port_read(uint16_t port, unsigned size) = 0;
  virtual void port_write(uint16_t port, unsigned size, uint32_t value) = 0;

  // The MSRs marked kPlatform in msrs.inc (IA32_APIC_BASE, IA32_TSC_DEADLINE, the x2APIC
  // range). false: the MSR does not exist or refuses the value, and the instruction raises
  // #GP(0) (SDM Vol. 2B RDMSR/WRMSR).
  virtual bool read_msr(uint32_t index, uint64_t& value) = 0;
  virtual bool write_msr(uint32_t index, uint64_t value) = 0;
};

// A machine without devices: open bus everywhere, no platform MSRs.
class NullPlatform : public Platform {
 public:
  uint64_t mmio_read(uint64_t, unsigned size) override {
    return size >= 8 ? ~uint64_t{0} : (uint64_t{1} << (size * 8)) - 1;
  }
  void mmio_write(uint64_t, unsigned, uint64_t) override {}
  uint32_t port_read(uint16_t, unsigned size) override {
    return size >= 4 ? ~uint32_t{0} : (uint32_t{1} << (size * 8)) - 1;
  }
  void port_write(uint16_t, unsigned, uint32_t) override {}
  bool read_msr(uint32_t, uint64_t&) override { return false; }
  bool write_msr(uint32_t, uint64_t) override { return false; }
};

}  // namespace cella::x86
