// MMX state and data movement: EMMS, MOVD/MOVQ with MMX registers, MOVNTQ, MASKMOVQ, and
// SSE2's MOVQ2DQ/MOVDQ2Q (SDM Vol. 2, each instruction's page). MMX registers are the
// significands of the x87 physical registers R0-R7 (SDM Vol. 1 9.5): sse.h's VecArg writes
// them, and Simd performs the x87-to-MMX transition. The MMX forms of the integer operations
// sit beside their SSE2 forms in sse_int.cc, sse_shift.cc, sse_shuffle.cc and ssse3.cc.
#include "engines/soft/exec/sse_moves.h"

namespace cella::soft {

namespace {

using namespace attr;

// EMMS: every x87 register tagged empty (11b) (SDM Vol. 2A EMMS). Like the other MMX
// instructions it also sets TOP to 0, as processors do (tests/diff/mmx_test checks it against the
// host; SDM Vol. 1 9.5.1 only names the tag word).
struct Emms {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    if (!mmx_enabled(cpu)) [[unlikely]]
      return Status::kFault;
    x87::enter_mmx(cpu.arch.x87);
    x87::empty_mmx(cpu.arch.x87);
    return Status::kNext;
  }
};

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic   opcode              operands  attributes semantics
    FORM("EMMS",     "NP 0F 77",          "",       kMmx,  Emms),
    FORM("MOVD",     "NP 0F 6E /r",       "Pd,Ed",  kMmx,  FromGpr),
    FORM("MOVQ",     "NP REX.W 0F 6E /r", "Pq,Eq",  kMmx,  FromGpr),
    FORM("MOVD",     "NP 0F 7E /r",       "Ed,Pd",  kMmx,  ToGpr),
    FORM("MOVQ",     "NP REX.W 0F 7E /r", "Eq,Pq",  kMmx,  ToGpr),
    FORM("MOVQ",     "NP 0F 6F /r",       "Pq,Qq",  kMmx,  Copy<>),
    FORM("MOVQ",     "NP 0F 7F /r",       "Qq,Pq",  kMmx,  Copy<>),
    FORM("MOVNTQ",   "NP 0F E7 /r",       "Mq,Pq",  kSse,  Copy<>),
    FORM("MASKMOVQ", "NP 0F F7 /r",       "Pq,Nq",  kSse,  MaskedStore),
    FORM("PMOVMSKB", "NP 0F D7 /r",       "Gd,Nq",  kSse,  SignMask<uint8_t>),
    FORM("MOVQ2DQ",  "F3 0F D6 /r",       "Vdq,Nq", kSse2, ZeroExtend),
    FORM("MOVDQ2Q",  "F2 0F D6 /r",       "Pq,Uq",  kSse2, Copy<>),
};
// clang-format on

}  // namespace

std::span<const FormSpec> mmx_forms() {
  return kForms;
}

}  // namespace cella::soft
