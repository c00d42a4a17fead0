// SSE4.1 integer and data-movement forms: PBLENDVB BLENDVPS BLENDVPD BLENDPS BLENDPD PBLENDW
// PTEST PMOVSX* PMOVZX* PMULDQ PMULLD PCMPEQQ PACKUSDW PMINSB PMINSD PMINUW PMINUD PMAXSB PMAXSD
// PMAXUW PMAXUD PHMINPOSUW MPSADBW PEXTRB PEXTRW PEXTRD PEXTRQ EXTRACTPS PINSRB PINSRD PINSRQ
// INSERTPS MOVNTDQA (SDM Vol. 2, each instruction's page). ROUND* and DPP* are in sse41_fp.cc.
#include "engines/soft/exec/sse_int.h"
#include "engines/soft/exec/sse_moves.h"

namespace cella::soft {

namespace {

using namespace attr;
namespace rf = x86::rflags;

// BLENDVPS & co.: r[i] = b[i] where the top bit of XMM0's lane i is set, else a[i].
template <class L>
struct BlendVariable : Simd<BlendVariable<L>> {
  template <class T, bool kMem, OperandList kOps>
  static Status run(SoftCpu& cpu, const Insn& insn) {
    Vec128 a, b, mask;
    if (!VArg<kOps, 1, kMem>::template read<16>(cpu, insn, b)) return Status::kFault;
    VArg<kOps, 0, kMem>::template read<16>(cpu, insn, a);
    VArg<kOps, 2, kMem>::template read<16>(cpu, insn, mask);
    for (size_t i = 0; i < Vec128::lanes<L>(); ++i) {
      if (msb(mask.get<L>(i))) a.set<L>(i, b.get<L>(i));
    }
    VArg<kOps, 0, kMem>::write(cpu, insn, a);
    return Status::kNext;
  }
};

// BLENDPS & co.: r[i] = b[i] where imm8 bit i is set, else a[i].
template <class L>
struct BlendImmediate {
  static Vec128 apply(const Vec128& a, const Vec128& b, uint8_t imm) {
    Vec128 r = a;
    for (size_t i = 0; i < Vec128::lanes<L>(); ++i) {
      if ((imm >> i) & 1) r.set<L>(i, b.get<L>(i));
    }
    return r;
  }
};

// PTEST: ZF = (a AND b) is zero, CF = (NOT a AND b) is zero; OF, AF, PF, SF cleared.
struct Ptest : Simd<Ptest> {
  template <class T, bool kMem, OperandList kOps>
  static Status run(SoftCpu& cpu, const Insn& insn) {
    Vec128 a, b;
    if (!VArg<kOps, 1, kMem>::template read<16>(cpu, insn, b)) return Status::kFault;
    VArg<kOps, 0, kMem>::template read<16>(cpu, insn, a);
    uint64_t both = 0, only_b = 0;
    for (size_t i = 0; i < 2; ++i) {
      both |= a.get<uint64_t>(i) & b.get<uint64_t>(i);
      only_b |= ~a.get<uint64_t>(i) & b.get<uint64_t>(i);
    }
    cpu.flags.set_status((both == 0 ? rf::kZf : 0) | (only_b == 0 ? rf::kCf : 0));
    return Status::kNext;
  }
};

// PMOVSX*/PMOVZX*: the low lanes of b, sign- or zero-extended from From to To.
template <class From, class To>
struct Extend {
  static Vec128 apply(const Vec128&, const Vec128& b, uint8_t) {
    Vec128 r;
    for (size_t i = 0; i < Vec128::lanes<To>(); ++i) {
      r.set<To>(i, static_cast<To>(b.get<From>(i)));
    }
    return r;
  }
};

// PHMINPOSUW: the smallest unsigned word of b and its (lowest) index; the rest zero.
struct MinimumPosition {
  static Vec128 apply(const Vec128&, const Vec128& b, uint8_t) {
    uint16_t minimum = b.get<uint16_t>(0), index = 0;
    for (uint16_t i = 1; i < 8; ++i) {
      if (b.get<uint16_t>(i) < minimum) minimum = b.get<uint16_t>(i), index = i;
    }
    Vec128 r;
    r.set<uint16_t>(0, minimum);
    r.set<uint16_t>(1, index);
    return r;
  }
};

// MPSADBW: eight sums of absolute differences between 4-byte groups: a's bytes from offset
// imm8[2] * 4 (sliding by one per result), b's from offset imm8[1:0] * 4 (fixed).
struct MultipleSad {
  static Vec128 apply(const Vec128& a, const Vec128& b, uint8_t imm) {
    const size_t a_offset = ((imm >> 2) & 1) * 4, b_offset = (imm & 3) * 4;
    Vec128 r;
    for (size_t i = 0; i < 8; ++i) {
      unsigned sum = 0;
      for (size_t j = 0; j < 4; ++j) {
        const int d = a.bytes[a_offset + i + j] - b.bytes[b_offset + j];
        sum += static_cast<unsigned>(d < 0 ? -d : d);
      }
      r.set<uint16_t>(i, static_cast<uint16_t>(sum));
    }
    return r;
  }
};

// INSERTPS: a single (lane imm8[7:6] of a register, or the m32) into lane imm8[5:4], then the
// lanes of imm8[3:0] zeroed.
struct InsertPs : Simd<InsertPs> {
  template <class T, bool kMem, OperandList kOps>
  static Status run(SoftCpu& cpu, const Insn& insn) {
    using Src = VArg<kOps, 1, kMem>;
    const uint8_t imm = static_cast<uint8_t>(insn.imm);
    Vec128 src, r;
    if (!Src::template read<16>(cpu, insn, src)) return Status::kFault;
    const uint32_t value = src.get<uint32_t>(Src::kInMemory ? 0 : imm >> 6);
    VArg<kOps, 0, kMem>::template read<16>(cpu, insn, r);
    r.set<uint32_t>((imm >> 4) & 3, value);
    for (size_t i = 0; i < 4; ++i) {
      if ((imm >> i) & 1) r.set<uint32_t>(i, 0);
    }
    VArg<kOps, 0, kMem>::write(cpu, insn, r);
    return Status::kNext;
  }
};

template <class L, class F>
using L2 = Packed<Lanes<L, F>>;
template <class Op>
using P = Packed<Op>;
using namespace lane;

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic     opcode               operands       attributes semantics
    FORM("PBLENDVB",   "66 0F 38 10 /r",       "Vx,Wx,XMM0", kSse41, BlendVariable<u8>),
    FORM("BLENDVPS",   "66 0F 38 14 /r",       "Vx,Wx,XMM0", kSse41, BlendVariable<u32>),
    FORM("BLENDVPD",   "66 0F 38 15 /r",       "Vx,Wx,XMM0", kSse41, BlendVariable<u64>),
    FORM("PTEST",      "66 0F 38 17 /r",       "Vx,Wx",      kSse41, Ptest),
    FORM("PMOVSXBW",   "66 0F 38 20 /r",       "Vx,Wq",      kSse41, P<Extend<i8, i16>>),
    FORM("PMOVSXBD",   "66 0F 38 21 /r",       "Vx,Wd",      kSse41, P<Extend<i8, i32>>),
    FORM("PMOVSXBQ",   "66 0F 38 22 /r",       "Vx,Ww",      kSse41, P<Extend<i8, int64_t>>),
    FORM("PMOVSXWD",   "66 0F 38 23 /r",       "Vx,Wq",      kSse41, P<Extend<i16, i32>>),
    FORM("PMOVSXWQ",   "66 0F 38 24 /r",       "Vx,Wd",      kSse41, P<Extend<i16, int64_t>>),
    FORM("PMOVSXDQ",   "66 0F 38 25 /r",       "Vx,Wq",      kSse41, P<Extend<i32, int64_t>>),
    FORM("PMULDQ",     "66 0F 38 28 /r",       "Vx,Wx",      kSse41, P<MulEven<i32>>),
    FORM("PCMPEQQ",    "66 0F 38 29 /r",       "Vx,Wx",      kSse41, L2<u64, Equal>),
    FORM("MOVNTDQA",   "66 0F 38 2A /r",       "Vx,Mx",      kSse41, Copy<>),
    FORM("PACKUSDW",   "66 0F 38 2B /r",       "Vx,Wx",      kSse41, P<Pack<i32, u16>>),
    FORM("PMOVZXBW",   "66 0F 38 30 /r",       "Vx,Wq",      kSse41, P<Extend<u8, u16>>),
    FORM("PMOVZXBD",   "66 0F 38 31 /r",       "Vx,Wd",      kSse41, P<Extend<u8, u32>>),
    FORM("PMOVZXBQ",   "66 0F 38 32 /r",       "Vx,Ww",      kSse41, P<Extend<u8, u64>>),
    FORM("PMOVZXWD",   "66 0F 38 33 /r",       "Vx,Wq",      kSse41, P<Extend<u16, u32>>),
    FORM("PMOVZXWQ",   "66 0F 38 34 /r",       "Vx,Wd",      kSse41, P<Extend<u16, u64>>),
    FORM("PMOVZXDQ",   "66 0F 38 35 /r",       "Vx,Wq",      kSse41, P<Extend<u32, u64>>),
    FORM("PMINSB",     "66 0F 38 38 /r",       "Vx,Wx",      kSse41, L2<i8, Min>),
    FORM("PMINSD",     "66 0F 38 39 /r",       "Vx,Wx",      kSse41, L2<i32, Min>),
    FORM("PMINUW",     "66 0F 38 3A /r",       "Vx,Wx",      kSse41, L2<u16, Min>),
    FORM("PMINUD",     "66 0F 38 3B /r",       "Vx,Wx",      kSse41, L2<u32, Min>),
    FORM("PMAXSB",     "66 0F 38 3C /r",       "Vx,Wx",      kSse41, L2<i8, Max>),
    FORM("PMAXSD",     "66 0F 38 3D /r",       "Vx,Wx",      kSse41, L2<i32, Max>),
    FORM("PMAXUW",     "66 0F 38 3E /r",       "Vx,Wx",      kSse41, L2<u16, Max>),
    FORM("PMAXUD",     "66 0F 38 3F /r",       "Vx,Wx",      kSse41, L2<u32, Max>),
    FORM("PMULLD",     "66 0F 38 40 /r",       "Vx,Wx",      kSse41, L2<u32, MulLow>),
    FORM("PHMINPOSUW", "66 0F 38 41 /r",       "Vx,Wx",      kSse41, P<MinimumPosition>),
    FORM("BLENDPS",    "66 0F 3A 0C /r",       "Vx,Wx,Ib",   kSse41, P<BlendImmediate<u32>>),
    FORM("BLENDPD",    "66 0F 3A 0D /r",       "Vx,Wx,Ib",   kSse41, P<BlendImmediate<u64>>),
    FORM("PBLENDW",    "66 0F 3A 0E /r",       "Vx,Wx,Ib",   kSse41, P<BlendImmediate<u16>>),
    FORM("PEXTRB",     "66 0F 3A 14 /r",       "Rd,Vdq,Ib",  kSse41, ExtractLane<u8>),
    FORM("PEXTRB",     "66 0F 3A 14 /r",       "Mb,Vdq,Ib",  kSse41, ExtractLane<u8>),
    FORM("PEXTRW",     "66 0F 3A 15 /r",       "Rd,Vdq,Ib",  kSse41, ExtractLane<u16>),
    FORM("PEXTRW",     "66 0F 3A 15 /r",       "Mw,Vdq,Ib",  kSse41, ExtractLane<u16>),
    FORM("PEXTRD",     "66 0F 3A 16 /r",       "Ed,Vdq,Ib",  kSse41, ExtractLane<>),
    FORM("PEXTRQ",     "66 REX.W 0F 3A 16 /r", "Eq,Vdq,Ib",  kSse41, ExtractLane<>),
    FORM("EXTRACTPS",  "66 0F 3A 17 /r",       "Ed,Vdq,Ib",  kSse41, ExtractLane<u32>),
    FORM("PINSRB",     "66 0F 3A 20 /r",       "Vdq,Rd,Ib",  kSse41, InsertLane<u8>),
    FORM("PINSRB",     "66 0F 3A 20 /r",       "Vdq,Mb,Ib",  kSse41, InsertLane<u8>),
    FORM("INSERTPS",   "66 0F 3A 21 /r",       "Vdq,Udq,Ib", kSse41, InsertPs),
    FORM("INSERTPS",   "66 0F 3A 21 /r",       "Vdq,Md,Ib",  kSse41, InsertPs),
    FORM("PINSRD",     "66 0F 3A 22 /r",       "Vdq,Ed,Ib",  kSse41, InsertLane<>),
    FORM("PINSRQ",     "66 REX.W 0F 3A 22 /r", "Vdq,Eq,Ib",  kSse41, InsertLane<>),
    FORM("MPSADBW",    "66 0F 3A 42 /r",       "Vx,Wx,Ib",   kSse41, P<MultipleSad>),
};
// clang-format on

}  // namespace

std::span<const FormSpec> sse41_forms() {
  return kForms;
}

}  // namespace cella::soft
