#include "engines/soft/cpuid.h"

namespace cella::soft {

x86::CpuidPolicy soft_cpuid_policy() {
  using F = x86::Feature;
  // One line per implemented feature; add a feature only with its forms and tests.
  return x86::CpuidPolicy{
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
      F::kFxsr,        // FXSAVE/FXRSTOR
      F::kSyscall,     // SYSCALL
      F::kLm,          // long mode
      F::kNx,          // execute-disable
      F::kLahfLm,      // LAHF/SAHF in 64-bit mode
      F::kPrefetchw,   // PREFETCHW (a hint)
      F::kRdtscp,      // RDTSCP
      F::kHypervisor,  // running under a hypervisor
  };
}

}  // namespace cella::soft
