// What a CPU engine sees of its local interrupt controller (a local APIC, or in tests anything
// else): the INTR line with the interrupt-acknowledge cycle, the NMI/INIT/SIPI/SMI events, the
// MSRs the controller owns, and CR8. Engines include this header only, never a device header.
#pragma once

#include <cstdint>
#include <optional>

namespace cella::x86 {

// IA32_APIC_BASE, the x2APIC register range, IA32_TSC_DEADLINE (SDM Vol. 4 Table 2-2).
inline constexpr uint32_t kMsrApicBase = 0x1b;
inline constexpr uint32_t kMsrTscDeadline = 0x6e0;
inline constexpr uint32_t kMsrX2apicFirst = 0x800;
inline constexpr uint32_t kMsrX2apicLast = 0x8ff;

// The result of an RDMSR/WRMSR the controller handled: `ok` false means the CPU raises #GP(0).
struct MsrResult {
  bool ok = true;
  uint64_t value = 0;  // RDMSR only
};

class InterruptController {
 public:
  virtual ~InterruptController() = default;

  // A maskable interrupt is deliverable now by the controller's own priority rules (SDM Vol.
  // 3A 11.8.3.1: the highest pending vector's class above PPR, or an ExtINT from the 8259).
  // The CPU still applies RFLAGS.IF, the interrupt shadow and its own blocking.
  virtual bool has_interrupt() const = 0;
  // The interrupt-acknowledge cycle: the vector to deliver. For a fixed interrupt this moves
  // it from IRR to ISR (SDM Vol. 3A 11.8.4); for ExtINT the vector comes from the 8259. If
  // nothing is deliverable any more it returns the spurious vector (SDM Vol. 3A 11.9).
  virtual uint8_t acknowledge() = 0;

  // Non-maskable events, each consumed by the CPU when it takes it (SDM Vol. 3A 11.6.1:
  // delivery modes NMI, INIT, Start-up, SMI).
  virtual bool nmi_pending() const = 0;
  virtual bool take_nmi() = 0;
  virtual bool smi_pending() const = 0;
  virtual bool take_smi() = 0;
  virtual bool init_pending() const = 0;
  // Consumes the INIT and puts the controller in its INIT state (SDM Vol. 3A 11.4.7.3).
  virtual bool take_init() = 0;
  // The vector of the last start-up IPI not yet taken (the CPU takes it in wait-for-SIPI).
  virtual std::optional<uint8_t> take_sipi() = 0;

  // RDMSR/WRMSR of an MSR the controller owns (owns_msr): IA32_APIC_BASE, the x2APIC
  // registers, IA32_TSC_DEADLINE.
  virtual bool owns_msr(uint32_t index) const = 0;
  virtual MsrResult read_msr(uint32_t index) = 0;
  virtual MsrResult write_msr(uint32_t index, uint64_t value) = 0;

  // MOV to/from CR8: TPR[7:4] (SDM Vol. 3A 11.8.6.1).
  virtual uint8_t cr8() const = 0;
  virtual void set_cr8(uint8_t value) = 0;
};

}  // namespace cella::x86
