// The CPUID policy of the software CPU: exactly the features whose instruction forms and
// architectural behaviour the engine implements. A unit test checks it against the form table.
#pragma once

#include "cpu/x86/cpuid_policy.h"

namespace cella::soft {

// What the machine around the CPU provides: features that depend on devices are advertised
// only when the machine has them.
struct SoftCpuidOptions {
  bool apic = false;           // a local APIC at IA32_APIC_BASE (CPUID.1:EDX.APIC)
  bool x2apic = false;         // its x2APIC mode, MSRs 0x800-0x8ff
  bool tsc_deadline = false;   // its TSC-deadline timer mode, IA32_TSC_DEADLINE
  bool invariant_tsc = false;  // the TSC source runs at a constant rate in every state
};

x86::CpuidPolicy soft_cpuid_policy(const SoftCpuidOptions& options = {});

}  // namespace cella::soft
