// SIMD shifts on MMX and XMM registers: PSLLW/D/Q PSRLW/D/Q PSRAW/D by a register or memory
// count and by an immediate, PSLLDQ/PSRLDQ (SDM Vol. 2B, each instruction's page).
#include "engines/soft/exec/sse_int.h"

namespace cella::soft {

namespace {

using namespace attr;

enum class Direction : uint8_t { kLeft, kRightLogical, kRightArithmetic };

// Every lane of type L shifted by `count` (the full unsigned count: a count beyond the lane
// width clears the lane, or fills it with its sign for arithmetic shifts).
template <class L, Direction kDirection, size_t N>
Vec<N> shift_lanes(const Vec<N>& a, uint64_t count) {
  constexpr unsigned kBits = 8 * sizeof(L);
  Vec<N> r;
  for (size_t i = 0; i < Vec<N>::template lanes<L>(); ++i) {
    const L v = a.template get<L>(i);
    L out;
    if constexpr (kDirection == Direction::kRightArithmetic) {
      using S = std::make_signed_t<L>;
      out = static_cast<L>(static_cast<S>(v) >> (count >= kBits ? kBits - 1 : count));
    } else if (count >= kBits) {
      out = 0;
    } else if constexpr (kDirection == Direction::kLeft) {
      out = static_cast<L>(v << count);
    } else {
      out = static_cast<L>(v >> count);
    }
    r.template set<L>(i, out);
  }
  return r;
}

// PSLLW mm, mm/m64 & co.: the count is the source's low quadword (SDM Vol. 2B PSLLW).
template <class L, Direction kDirection>
struct ShiftByVector {
  template <size_t N>
  static Vec<N> apply(const Vec<N>& a, const Vec<N>& b, uint8_t) {
    return shift_lanes<L, kDirection>(a, b.template get<uint64_t>(0));
  }
};

// PSLLW mm, imm8 & co. (groups 12-14): the register operand is shifted in place.
template <class L, Direction kDirection>
struct ShiftByImmediate : Simd<ShiftByImmediate<L, kDirection>> {
  template <class T, bool kMem, OperandList kOps>
  static Status run(SoftCpu& cpu, const Insn& insn) {
    using Dst = VArg<kOps, 0, kMem>;
    constexpr size_t N = Dst::kRegisterBytes;
    Vec<N> a;
    Dst::template read<N>(cpu, insn, a);
    Dst::write(cpu, insn, shift_lanes<L, kDirection>(a, static_cast<uint8_t>(insn.imm)));
    return Status::kNext;
  }
};

// PSLLDQ/PSRLDQ xmm, imm8: the whole register shifted by imm8 bytes (more than 15 clears it).
template <bool kLeft>
struct ShiftBytes : Simd<ShiftBytes<kLeft>> {
  template <class T, bool kMem, OperandList kOps>
  static Status run(SoftCpu& cpu, const Insn& insn) {
    using Dst = VArg<kOps, 0, kMem>;
    Vec128 a, r;
    Dst::template read<16>(cpu, insn, a);
    const unsigned count = static_cast<uint8_t>(insn.imm);
    for (unsigned i = 0; i < 16; ++i) {
      if (kLeft)
        r.bytes[i] = i >= count ? a.bytes[i - count] : 0;
      else
        r.bytes[i] = i + count < 16 ? a.bytes[i + count] : 0;
    }
    Dst::write(cpu, insn, r);
    return Status::kNext;
  }
};

constexpr Direction kL = Direction::kLeft, kR = Direction::kRightLogical,
                    kA = Direction::kRightArithmetic;
template <class L, Direction kD>
using V = Packed<ShiftByVector<L, kD>>;
template <class L, Direction kD>
using I = ShiftByImmediate<L, kD>;

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic  opcode         operands attributes semantics
    FORM("PSRLW",  "NP 0F D1 /r", "Pq,Qq", kMmx,  V<uint16_t, kR>),
    FORM("PSRLW",  "66 0F D1 /r", "Vx,Wx", kSse2, V<uint16_t, kR>),
    FORM("PSRLD",  "NP 0F D2 /r", "Pq,Qq", kMmx,  V<uint32_t, kR>),
    FORM("PSRLD",  "66 0F D2 /r", "Vx,Wx", kSse2, V<uint32_t, kR>),
    FORM("PSRLQ",  "NP 0F D3 /r", "Pq,Qq", kMmx,  V<uint64_t, kR>),
    FORM("PSRLQ",  "66 0F D3 /r", "Vx,Wx", kSse2, V<uint64_t, kR>),
    FORM("PSRAW",  "NP 0F E1 /r", "Pq,Qq", kMmx,  V<uint16_t, kA>),
    FORM("PSRAW",  "66 0F E1 /r", "Vx,Wx", kSse2, V<uint16_t, kA>),
    FORM("PSRAD",  "NP 0F E2 /r", "Pq,Qq", kMmx,  V<uint32_t, kA>),
    FORM("PSRAD",  "66 0F E2 /r", "Vx,Wx", kSse2, V<uint32_t, kA>),
    FORM("PSLLW",  "NP 0F F1 /r", "Pq,Qq", kMmx,  V<uint16_t, kL>),
    FORM("PSLLW",  "66 0F F1 /r", "Vx,Wx", kSse2, V<uint16_t, kL>),
    FORM("PSLLD",  "NP 0F F2 /r", "Pq,Qq", kMmx,  V<uint32_t, kL>),
    FORM("PSLLD",  "66 0F F2 /r", "Vx,Wx", kSse2, V<uint32_t, kL>),
    FORM("PSLLQ",  "NP 0F F3 /r", "Pq,Qq", kMmx,  V<uint64_t, kL>),
    FORM("PSLLQ",  "66 0F F3 /r", "Vx,Wx", kSse2, V<uint64_t, kL>),
    FORM("PSRLW",  "NP 0F 71 /2", "Nq,Ib", kMmx,  I<uint16_t, kR>),
    FORM("PSRLW",  "66 0F 71 /2", "Ux,Ib", kSse2, I<uint16_t, kR>),
    FORM("PSRAW",  "NP 0F 71 /4", "Nq,Ib", kMmx,  I<uint16_t, kA>),
    FORM("PSRAW",  "66 0F 71 /4", "Ux,Ib", kSse2, I<uint16_t, kA>),
    FORM("PSLLW",  "NP 0F 71 /6", "Nq,Ib", kMmx,  I<uint16_t, kL>),
    FORM("PSLLW",  "66 0F 71 /6", "Ux,Ib", kSse2, I<uint16_t, kL>),
    FORM("PSRLD",  "NP 0F 72 /2", "Nq,Ib", kMmx,  I<uint32_t, kR>),
    FORM("PSRLD",  "66 0F 72 /2", "Ux,Ib", kSse2, I<uint32_t, kR>),
    FORM("PSRAD",  "NP 0F 72 /4", "Nq,Ib", kMmx,  I<uint32_t, kA>),
    FORM("PSRAD",  "66 0F 72 /4", "Ux,Ib", kSse2, I<uint32_t, kA>),
    FORM("PSLLD",  "NP 0F 72 /6", "Nq,Ib", kMmx,  I<uint32_t, kL>),
    FORM("PSLLD",  "66 0F 72 /6", "Ux,Ib", kSse2, I<uint32_t, kL>),
    FORM("PSRLQ",  "NP 0F 73 /2", "Nq,Ib", kMmx,  I<uint64_t, kR>),
    FORM("PSRLQ",  "66 0F 73 /2", "Ux,Ib", kSse2, I<uint64_t, kR>),
    FORM("PSRLDQ", "66 0F 73 /3", "Ux,Ib", kSse2, ShiftBytes<false>),
    FORM("PSLLQ",  "NP 0F 73 /6", "Nq,Ib", kMmx,  I<uint64_t, kL>),
    FORM("PSLLQ",  "66 0F 73 /6", "Ux,Ib", kSse2, I<uint64_t, kL>),
    FORM("PSLLDQ", "66 0F 73 /7", "Ux,Ib", kSse2, ShiftBytes<true>),
};
// clang-format on

}  // namespace

std::span<const FormSpec> sse_shift_forms() {
  return kForms;
}

}  // namespace cella::soft
