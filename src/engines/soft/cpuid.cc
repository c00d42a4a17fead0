#include "engines/soft/cpuid.h"

#include "engines/soft/exec/sse_fp.h"

namespace cella::soft {

x86::CpuidPolicy soft_cpuid_policy() {
  using F = x86::Feature;
  // One line per implemented feature; add a feature only with its forms and tests.
  x86::CpuidPolicy policy{
      F::kFpu,         // x87 FPU (exec/x87*.cc)
      F::kTsc,         // RDTSC
      F::kCx8,         // CMPXCHG8B
      F::kCx16,        // CMPXCHG16B
      F::kPopcnt,      // POPCNT
      F::kAbm,         // LZCNT
      F::kBmi1,        // ANDN BEXTR BLSI BLSMSK BLSR TZCNT
      F::kErms,        // REP MOVSB/STOSB are fast (exec/string.cc copies whole pages)
      F::kCmov,        // CMOVcc
      F::kClfsh,       // CLFLUSH
      F::kMmx,         // MMX (exec/mmx.cc and the NP forms of the integer groups)
      F::kSse,         // SSE (exec/sse_*.cc)
      F::kSse2,        // SSE2
      F::kSse3,        // SSE3 (FISTTP: x87)
      F::kSsse3,       // SSSE3 (exec/ssse3.cc)
      F::kSse41,       // SSE4.1 (exec/sse41*.cc)
      F::kFxsr,        // FXSAVE/FXRSTOR
      F::kSyscall,     // SYSCALL
      F::kLm,          // long mode
      F::kNx,          // execute-disable
      F::kLahfLm,      // LAHF/SAHF in 64-bit mode
      F::kPrefetchw,   // PREFETCHW (a hint)
      F::kRdtscp,      // RDTSCP
      F::kHypervisor,  // running under a hypervisor
  };
  // SSE floating point runs on the host's SSE unit (docs/cpu.md): the SSE3 and SSE4.1 forms
  // that need the host's own instructions exist only where the host has them.
  if (!host_has_sse3()) policy.set(F::kSse3, false);
  if (!host_has_sse41()) policy.set(F::kSse41, false);
  return policy;
}

}  // namespace cella::soft
