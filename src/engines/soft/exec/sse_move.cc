// SSE/SSE2 data movement: MOVAPS MOVUPS MOVAPD MOVUPD MOVSS MOVSD MOVLPS MOVHPS MOVLPD MOVHPD
// MOVHLPS MOVLHPS MOVDQA MOVDQU LDDQU MOVD MOVQ MOVNTPS MOVNTPD MOVNTDQ MOVNTI MASKMOVDQU
// MOVMSKPS MOVMSKPD PMOVMSKB (SDM Vol. 2, each instruction's page). The MMX forms of the same
// semantics are in mmx.cc.
#include "engines/soft/exec/sse_moves.h"

namespace cella::soft {

namespace {

using namespace attr;

// MOVNTI: a general-purpose store with a non-temporal hint (SDM Vol. 2B MOVNTI); no SIMD gate.
struct Movnti {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    return write_memory(cpu, effective_address(cpu, insn), cpu.reg<T>(insn.reg)) ? Status::kNext
                                                                                 : Status::kFault;
  }
};

// MOVHPS & co.: the quadword half kSrcHalf of the source (or 8 bytes of memory) into half
// kDstHalf of the destination (or 8 bytes of memory); the other half is kept.
template <int kDstHalf, int kSrcHalf>
struct MoveHalf : Simd<MoveHalf<kDstHalf, kSrcHalf>> {
  template <class T, bool kMem, OperandList kOps>
  static Status run(SoftCpu& cpu, const Insn& insn) {
    using Dst = VArg<kOps, 0, kMem>;
    using Src = VArg<kOps, 1, kMem>;
    Vec64 half;
    if constexpr (Src::kInMemory) {
      if (!Src::read(cpu, insn, half)) return Status::kFault;
    } else {
      std::memcpy(half.bytes, Src::reg(cpu, insn) + 8 * kSrcHalf, 8);
    }
    if constexpr (Dst::kInMemory) {
      return Dst::write(cpu, insn, half) ? Status::kNext : Status::kFault;
    } else {
      std::memcpy(Dst::reg(cpu, insn) + 8 * kDstHalf, half.bytes, 8);
      return Status::kNext;
    }
  }
};

// MOVDDUP/MOVSLDUP/MOVSHDUP are in sse_shuffle.cc; the aligned and unaligned moves share Copy.
constexpr Align kU = Align::kNone;

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic     opcode              operands   attributes semantics
    FORM("MOVUPS",     "NP 0F 10 /r",       "Vps,Wps", kSse,  Copy<kU>),
    FORM("MOVUPS",     "NP 0F 11 /r",       "Wps,Vps", kSse,  Copy<kU>),
    FORM("MOVUPD",     "66 0F 10 /r",       "Vpd,Wpd", kSse2, Copy<kU>),
    FORM("MOVUPD",     "66 0F 11 /r",       "Wpd,Vpd", kSse2, Copy<kU>),
    FORM("MOVSS",      "F3 0F 10 /r",       "Vss,Wss", kSse,  MoveScalar),
    FORM("MOVSS",      "F3 0F 11 /r",       "Wss,Vss", kSse,  Copy<>),
    FORM("MOVSD",      "F2 0F 10 /r",       "Vsd,Wsd", kSse2, MoveScalar),
    FORM("MOVSD",      "F2 0F 11 /r",       "Wsd,Vsd", kSse2, Copy<>),
    FORM("MOVLPS",     "NP 0F 12 /r",       "Vq,Mq",   kSse,  Copy<>),
    FORM("MOVHLPS",    "NP 0F 12 /r",       "Vq,Uq",   kSse,  MoveHalf<0, 1>),
    FORM("MOVLPD",     "66 0F 12 /r",       "Vq,Mq",   kSse2, Copy<>),
    FORM("MOVLPS",     "NP 0F 13 /r",       "Mq,Vq",   kSse,  Copy<>),
    FORM("MOVLPD",     "66 0F 13 /r",       "Mq,Vq",   kSse2, Copy<>),
    FORM("MOVHPS",     "NP 0F 16 /r",       "Vq,Mq",   kSse,  MoveHalf<1, 0>),
    FORM("MOVLHPS",    "NP 0F 16 /r",       "Vq,Uq",   kSse,  MoveHalf<1, 0>),
    FORM("MOVHPD",     "66 0F 16 /r",       "Vq,Mq",   kSse2, MoveHalf<1, 0>),
    FORM("MOVHPS",     "NP 0F 17 /r",       "Mq,Vq",   kSse,  MoveHalf<0, 1>),
    FORM("MOVHPD",     "66 0F 17 /r",       "Mq,Vq",   kSse2, MoveHalf<0, 1>),
    FORM("MOVAPS",     "NP 0F 28 /r",       "Vps,Wps", kSse,  Copy<>),
    FORM("MOVAPS",     "NP 0F 29 /r",       "Wps,Vps", kSse,  Copy<>),
    FORM("MOVAPD",     "66 0F 28 /r",       "Vpd,Wpd", kSse2, Copy<>),
    FORM("MOVAPD",     "66 0F 29 /r",       "Wpd,Vpd", kSse2, Copy<>),
    FORM("MOVNTPS",    "NP 0F 2B /r",       "Mps,Vps", kSse,  Copy<>),
    FORM("MOVNTPD",    "66 0F 2B /r",       "Mpd,Vpd", kSse2, Copy<>),
    FORM("MOVMSKPS",   "NP 0F 50 /r",       "Gd,Ups",  kSse,  SignMask<uint32_t>),
    FORM("MOVMSKPD",   "66 0F 50 /r",       "Gd,Upd",  kSse2, SignMask<uint64_t>),
    FORM("MOVD",       "66 0F 6E /r",       "Vd,Ed",   kSse2, FromGpr),
    FORM("MOVQ",       "66 REX.W 0F 6E /r", "Vq,Eq",   kSse2, FromGpr),
    FORM("MOVD",       "66 0F 7E /r",       "Ed,Vd",   kSse2, ToGpr),
    FORM("MOVQ",       "66 REX.W 0F 7E /r", "Eq,Vq",   kSse2, ToGpr),
    FORM("MOVDQA",     "66 0F 6F /r",       "Vx,Wx",   kSse2, Copy<>),
    FORM("MOVDQA",     "66 0F 7F /r",       "Wx,Vx",   kSse2, Copy<>),
    FORM("MOVDQU",     "F3 0F 6F /r",       "Vx,Wx",   kSse2, Copy<kU>),
    FORM("MOVDQU",     "F3 0F 7F /r",       "Wx,Vx",   kSse2, Copy<kU>),
    FORM("MOVQ",       "F3 0F 7E /r",       "Vq,Wq",   kSse2, ZeroExtend),
    FORM("MOVQ",       "66 0F D6 /r",       "Wq,Vq",   kSse2, ZeroExtend),
    FORM("PMOVMSKB",   "66 0F D7 /r",       "Gd,Ux",   kSse2, SignMask<uint8_t>),
    FORM("MOVNTDQ",    "66 0F E7 /r",       "Mx,Vx",   kSse2, Copy<>),
    FORM("LDDQU",      "F2 0F F0 /r",       "Vx,Mx",   kSse3, Copy<kU>),
    FORM("MASKMOVDQU", "66 0F F7 /r",       "Vdq,Udq", kSse2, MaskedStore),
    FORM("MOVNTI",     "NP 0F C3 /r",       "My,Gy",   kSse2, Movnti),
};
// clang-format on

}  // namespace

std::span<const FormSpec> sse_move_forms() {
  return kForms;
}

}  // namespace cella::soft
