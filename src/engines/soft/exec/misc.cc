// Processor identification, time stamp, hints and fences: CPUID RDTSC RDTSCP NOP PAUSE
// PREFETCHh PREFETCHW LFENCE SFENCE MFENCE CLFLUSH (SDM Vol. 2A/2B, each instruction's page).
#include "cpu/x86/control_registers.h"
#include "engines/soft/exec/common.h"

namespace cella::soft {

namespace {

using namespace attr;

// CPUID: the policy's answer (SDM Vol. 2A CPUID); the upper halves of RAX..RDX are cleared.
struct Cpuid {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    const x86::CpuidResult r =
        cpu.cpuid.query(static_cast<uint32_t>(cpu.gpr[0]), static_cast<uint32_t>(cpu.gpr[1]));
    cpu.gpr[0] = r.eax;
    cpu.gpr[3] = r.ebx;
    cpu.gpr[1] = r.ecx;
    cpu.gpr[2] = r.edx;
    return Status::kNext;
  }
};

// RDTSC / RDTSCP: EDX:EAX = TSC; RDTSCP also ECX = IA32_TSC_AUX (SDM Vol. 2B RDTSC).
// CR4.TSD makes them privileged (SDM Vol. 3A 2.5).
template <bool kWithAux>
struct ReadTsc {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    if ((cpu.arch.cr4 & x86::cr4::kTsd) && cpu.cpl() != 0) {
      return cpu.raise(x86::Vector::kGeneralProtection, 0);
    }
    const uint64_t tsc = cpu.time_source() + cpu.arch.tsc_offset;
    cpu.gpr[0] = static_cast<uint32_t>(tsc);
    cpu.gpr[2] = tsc >> 32;
    if constexpr (kWithAux) cpu.gpr[1] = static_cast<uint32_t>(cpu.arch.tsc_aux);
    return Status::kNext;
  }
};

// Fences order this CPU's memory accesses against other CPUs'; on an x86 host a sequentially
// consistent host fence provides MFENCE's store-load ordering.
struct Fence {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu&, const Insn&) {
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return Status::kNext;
  }
};

// CLFLUSH: no cache to flush, but the address is checked like a byte read (SDM Vol. 2A
// CLFLUSH: #PF/#GP as a load).
struct CacheLineFlush {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    PageTranslation page;
    return cpu.translate(effective_address(cpu, insn), Access::kRead, page) ? Status::kNext
                                                                            : Status::kFault;
  }
};

constexpr uint64_t kPrefetchw = feature(x86::Feature::kPrefetchw);

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic      opcode           operands attributes semantics
    FORM("CPUID",       "0F A2",         "",   kNoDiff,           Cpuid),
    FORM("RDTSC",       "0F 31",         "",   kNoDiff | kTsc,    ReadTsc<false>),
    FORM("RDTSCP",      "0F 01 F9",      "",   kNoDiff | kRdtscp, ReadTsc<true>),
    FORM("PREFETCHNTA", "0F 18 /0",      "M",  0,                 Nop),
    FORM("PREFETCHT0",  "0F 18 /1",      "M",  0,                 Nop),
    FORM("PREFETCHT1",  "0F 18 /2",      "M",  0,                 Nop),
    FORM("PREFETCHT2",  "0F 18 /3",      "M",  0,                 Nop),
    // SDM Vol. 2B PREFETCHW; AMD APM 3: the other 0F 0D /reg memory forms are prefetches too,
    // and register forms are #UD.
    FORM("PREFETCH",    "0F 0D /r",      "Mb", kPrefetchw,        Nop),
    FORM("PREFETCHW",   "0F 0D /1",      "M",  kPrefetchw,        Nop),
    // SDM Vol. 2B NOP: 0F 1F /0 is the multi-byte NOP; the rest of 0F 18-1F are reserved
    // hint NOPs (ENDBR64 = F3 0F 1E FA executes as one on a CPU without CET).
    FORM("NOP",         "0F 18 /r",      "Ev", 0,                 Nop),
    FORM("NOP",         "0F 19 /r",      "Ev", 0,                 Nop),
    FORM("NOP",         "0F 1A /r",      "Ev", 0,                 Nop),
    FORM("NOP",         "0F 1B /r",      "Ev", 0,                 Nop),
    FORM("NOP",         "0F 1C /r",      "Ev", 0,                 Nop),
    FORM("NOP",         "0F 1D /r",      "Ev", 0,                 Nop),
    FORM("NOP",         "0F 1E /r",      "Ev", 0,                 Nop),
    FORM("NOP",         "0F 1F /r",      "Ev", 0,                 Nop),
    FORM("LFENCE",      "NP 0F AE E8+i", "",   kSse2,             Fence),
    FORM("MFENCE",      "NP 0F AE F0+i", "",   kSse2,             Fence),
    FORM("SFENCE",      "NP 0F AE F8+i", "",   kSse,              Fence),
    FORM("CLFLUSH",     "NP 0F AE /7",   "Mb", kClflush,          CacheLineFlush),
};
// clang-format on

}  // namespace

std::span<const FormSpec> misc_forms() {
  return kForms;
}

}  // namespace cella::soft
