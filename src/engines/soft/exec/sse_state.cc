// SIMD state: the CR0/CR4 gate of the SSE unit, LDMXCSR and STMXCSR (SDM Vol. 2A
// LDMXCSR, Vol. 2B STMXCSR).
#include "cpu/x86/fxsave.h"
#include "engines/soft/exec/sse.h"

namespace cella::soft {

bool raise_sse_unavailable(SoftCpu& cpu) {
  // SDM Vol. 2A 2.5, Table 2-18 onwards: #UD before #NM.
  if ((cpu.arch.cr0 & x86::cr0::kEm) || !(cpu.arch.cr4 & x86::cr4::kOsfxsr)) {
    cpu.raise(x86::Vector::kInvalidOpcode);
  } else {
    cpu.raise(x86::Vector::kDeviceNotAvailable);
  }
  return false;
}

namespace {

using namespace attr;

// LDMXCSR m32: #GP(0) when a bit outside MXCSR_MASK is set (SDM Vol. 2A LDMXCSR, Vol. 1
// 11.6.6). Loading a set flag whose exception is unmasked raises nothing by itself.
struct Ldmxcsr : Simd<Ldmxcsr> {
  static constexpr bool kSse = true;
  template <class T, bool kMem, OperandList kOps>
  static Status run(SoftCpu& cpu, const Insn& insn) {
    uint32_t value = 0;
    if (!read_memory(cpu, effective_address(cpu, insn), value)) return Status::kFault;
    if (value & ~x86::kMxcsrMask) return cpu.raise(x86::Vector::kGeneralProtection, 0);
    cpu.arch.mxcsr = value;
    return Status::kNext;
  }
};

struct Stmxcsr : Simd<Stmxcsr> {
  static constexpr bool kSse = true;
  template <class T, bool kMem, OperandList kOps>
  static Status run(SoftCpu& cpu, const Insn& insn) {
    return write_memory(cpu, effective_address(cpu, insn), cpu.arch.mxcsr) ? Status::kNext
                                                                           : Status::kFault;
  }
};

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic   opcode         operands attributes semantics
    FORM("LDMXCSR", "NP 0F AE /2", "Md", kSse, Ldmxcsr),
    FORM("STMXCSR", "NP 0F AE /3", "Md", kSse, Stmxcsr),
};
// clang-format on

}  // namespace

std::span<const FormSpec> sse_state_forms() {
  return kForms;
}

}  // namespace cella::soft
