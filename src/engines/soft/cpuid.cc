#include "engines/soft/cpuid.h"

#include "engines/soft/exec/sse_fp.h"

namespace cella::soft {

x86::CpuidPolicy soft_cpuid_policy(const SoftCpuidOptions& options) {
  using F = x86::Feature;
  // One line per implemented feature; add a feature only with its forms and tests.
  x86::CpuidPolicy policy{
      F::kFpu,               // x87 FPU (exec/x87*.cc)
      F::kDe,                // CR4.DE: DR4/DR5 are #UD (exec/system_control.cc)
      F::kPse,               // PS in paging-structure entries (guest_page_walker.cc), CR4.PSE
      F::kTsc,               // RDTSC, CR4.TSD, IA32_TIME_STAMP_COUNTER
      F::kTscAdjust,         // IA32_TSC_ADJUST (cpu/x86/msrs.inc)
      F::kMsr,               // RDMSR/WRMSR over the MSR table (cpu/x86/msrs.inc)
      F::kPae,               // 64-bit paging-structure entries (4-level paging)
      F::kCx8,               // CMPXCHG8B
      F::kPge,               // global pages, CR4.PGE (tlb.h)
      F::kPat,               // IA32_PAT (stored and checked; memory types have no effect)
      F::kCx16,              // CMPXCHG16B
      F::kPopcnt,            // POPCNT
      F::kAbm,               // LZCNT
      F::kBmi1,              // ANDN BEXTR BLSI BLSMSK BLSR TZCNT
      F::kErms,              // REP MOVSB/STOSB are fast (exec/string.cc copies whole pages)
      F::kCmov,              // CMOVcc
      F::kClfsh,             // CLFLUSH
      F::kMmx,               // MMX (exec/mmx.cc and the NP forms of the integer groups)
      F::kSse,               // SSE (exec/sse_*.cc)
      F::kSse2,              // SSE2
      F::kSse3,              // SSE3 (FISTTP: x87)
      F::kSsse3,             // SSSE3 (exec/ssse3.cc)
      F::kSse41,             // SSE4.1 (exec/sse41*.cc)
      F::kFxsr,              // FXSAVE/FXRSTOR
      F::kSyscall,           // SYSCALL/SYSRET, EFER.SCE
      F::kLm,                // long mode
      F::kNx,                // execute-disable, EFER.NXE
      F::kPdpe1gb,           // 1 GiB pages
      F::kLahfLm,            // LAHF/SAHF in 64-bit mode
      F::kPrefetchw,         // PREFETCHW (a hint)
      F::kRdtscp,            // RDTSCP, IA32_TSC_AUX
      F::kHypervisor,        // running under a hypervisor
      F::kArchCapabilities,  // IA32_ARCH_CAPABILITIES: not affected by speculative attacks
  };
  // SSE floating point runs on the host's SSE unit (docs/cpu.md): the SSE3 and SSE4.1 forms
  // that need the host's own instructions exist only where the host has them.
  if (!host_has_sse3()) policy.set(F::kSse3, false);
  if (!host_has_sse41()) policy.set(F::kSse41, false);
  // The TSC counts host monotonic time at a fixed rate, whatever the guest does (SDM Vol. 3B
  // 18.17.1 "invariant TSC"); a guest that knows it trusts the TSC as its clocksource.
  policy.set(F::kInvariantTsc, options.invariant_tsc);
  policy.set(F::kApic, options.apic);
  policy.set(F::kX2apic, options.apic && options.x2apic);
  policy.set(F::kTscDeadline, options.apic && options.tsc_deadline);
  return policy;
}

}  // namespace cella::soft
