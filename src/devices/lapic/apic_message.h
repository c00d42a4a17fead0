// The messages local APICs and IOAPICs exchange, and the small interfaces a local APIC is
// built with: the router that carries its IPIs (and the IOAPIC's interrupts), the 8259 behind
// LINT0 (ExtINT), and the guest's time-stamp counter.
#pragma once

#include <cstdint>

namespace cella::devices {

class Lapic;

// SDM Vol. 3A 11.6.1, Figure 11-12 (ICR bits 10:8) and 11.5.1 (LVT delivery modes); the
// 82093AA redirection entries use the same encoding (82093AA datasheet 3.2.4).
enum class DeliveryMode : uint8_t {
  kFixed = 0,
  kLowestPriority = 1,
  kSmi = 2,
  kReserved3 = 3,
  kNmi = 4,
  kInit = 5,
  kStartUp = 6,
  kExtInt = 7,
};

// SDM Vol. 3A 11.6.1: destination shorthand (ICR bits 19:18).
enum class Shorthand : uint8_t {
  kNone = 0,
  kSelf = 1,
  kAllIncludingSelf = 2,
  kAllExcludingSelf = 3
};

struct ApicMessage {
  uint8_t vector = 0;
  DeliveryMode mode = DeliveryMode::kFixed;
  bool logical = false;          // destination mode (SDM Vol. 3A 11.6.2.2)
  bool level_triggered = false;  // trigger mode: sets the TMR bit on acceptance
  bool assert_level = true;      // ICR bit 14; an INIT with level de-assert has no effect
  Shorthand shorthand = Shorthand::kNone;
  // xAPIC format: bits 7:0 (ICR bits 63:56, the IOAPIC's destination field; 0xff broadcasts).
  // x2APIC format: the 32-bit destination (ICR bits 63:32; 0xffffffff broadcasts).
  uint32_t destination = 0;
  bool x2apic_format = false;
  const Lapic* source = nullptr;  // the sender, for the self shorthands; null from an IOAPIC
};

// Carries messages to the local APICs that accept them and EOIs of level-triggered vectors to
// the IOAPICs (SDM Vol. 3A 11.8.5). apic_bus.h is the machine's implementation.
class ApicRouter {
 public:
  virtual ~ApicRouter() = default;
  virtual void send(const ApicMessage& message) = 0;
  virtual void broadcast_eoi(uint8_t vector) = 0;
};

// The 8259 behind LINT0 in virtual-wire mode (SDM Vol. 3A 11.5.1, ExtINT): its INT output
// and the interrupt-acknowledge cycle that returns its vector.
class ExtIntSource {
 public:
  virtual ~ExtIntSource() = default;
  virtual bool interrupt_output() const = 0;
  virtual uint8_t acknowledge() = 0;
};

// The guest's time-stamp counter, as the machine derives it from its Clock: the APIC timer's
// TSC-deadline mode compares against it (SDM Vol. 3A 11.5.4.1).
class TscSource {
 public:
  virtual ~TscSource() = default;
  virtual uint64_t tsc() const = 0;
  virtual uint64_t tsc_hz() const = 0;
};

}  // namespace cella::devices
