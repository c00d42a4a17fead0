// The boot vCPU on Cella's software CPU: the engine's pieces for a full machine (the guest
// page walker over guest-physical RAM, the decoded-code cache, the CPUID policy of what the
// engine implements plus the machine's local APIC) and the SoftCpu itself.
#pragma once

#include <memory>

#include "engines/soft/code_cache.h"
#include "engines/soft/cpu.h"
#include "engines/soft/cpuid.h"
#include "engines/soft/guest_page_walker.h"
#include "memory/guest_memory.h"

namespace cella::machine {

// What the software CPU advertises in this machine: its own features, the local APIC's
// (x2APIC, TSC deadline), the invariant TSC and its frequency (CPUID 15H/16H).
x86::CpuidPolicy machine_cpuid_policy(uint32_t tsc_khz);

class SoftVcpu {
 public:
  // `read_tsc(context)` is the guest's time-stamp counter before IA32_TSC writes.
  SoftVcpu(memory::GuestMemory& memory, x86::Platform& platform, uint32_t tsc_khz,
           uint64_t (*read_tsc)(void*), void* context);

  soft::SoftCpu& cpu() { return *cpu_; }
  // A device wrote guest memory (DMA): decoded code on those pages is stale. Call between
  // slices, never while the CPU runs.
  void invalidate_code(uint64_t physical, uint64_t size) { code_.invalidate_range(physical, size); }

 private:
  soft::GuestPageWalker walker_;
  soft::CodeCache code_;
  x86::CpuidPolicy cpuid_;
  std::unique_ptr<soft::SoftCpu> cpu_;
};

}  // namespace cella::machine
