// Lane operations of the integer SIMD groups (sse_int.cc, ssse3.cc, sse41.cc), for MMX and XMM
// registers alike.
#pragma once

#include <limits>
#include <type_traits>

#include "engines/soft/exec/sse.h"

namespace cella::soft {

// The integer of twice the width of L, with L's signedness.
template <class L>
using Wider = std::conditional_t<
    sizeof(L) == 1, std::conditional_t<std::is_signed_v<L>, int16_t, uint16_t>,
    std::conditional_t<sizeof(L) == 2, std::conditional_t<std::is_signed_v<L>, int32_t, uint32_t>,
                       std::conditional_t<std::is_signed_v<L>, int64_t, uint64_t>>>;

// SDM Vol. 1 9.3, Table 9-1: saturation clamps v to the range of L.
template <class L>
constexpr L saturate(int64_t v) {
  constexpr int64_t kMin = std::numeric_limits<L>::min();
  constexpr int64_t kMax = std::numeric_limits<L>::max();
  return static_cast<L>(v < kMin ? kMin : (v > kMax ? kMax : v));
}

struct AddWrap {
  template <class L>
  L operator()(L a, L b) const {
    return static_cast<L>(a + b);
  }
};
struct SubWrap {
  template <class L>
  L operator()(L a, L b) const {
    return static_cast<L>(a - b);
  }
};
struct AddSaturate {
  template <class L>
  L operator()(L a, L b) const {
    return saturate<L>(int64_t{a} + int64_t{b});
  }
};
struct SubSaturate {
  template <class L>
  L operator()(L a, L b) const {
    return saturate<L>(int64_t{a} - int64_t{b});
  }
};
struct Min {
  template <class L>
  L operator()(L a, L b) const {
    return a < b ? a : b;
  }
};
struct Max {
  template <class L>
  L operator()(L a, L b) const {
    return a > b ? a : b;
  }
};
struct Equal {
  template <class L>
  L operator()(L a, L b) const {
    return a == b ? static_cast<L>(~L{0}) : L{0};
  }
};
struct Greater {  // signed lanes (PCMPGTB & co.)
  template <class L>
  L operator()(L a, L b) const {
    return a > b ? static_cast<L>(~L{0}) : L{0};
  }
};
struct And {
  template <class L>
  L operator()(L a, L b) const {
    return a & b;
  }
};
struct AndNot {  // PANDN/ANDNPS: (NOT dst) AND src
  template <class L>
  L operator()(L a, L b) const {
    return static_cast<L>(~a & b);
  }
};
struct Or {
  template <class L>
  L operator()(L a, L b) const {
    return a | b;
  }
};
struct Xor {
  template <class L>
  L operator()(L a, L b) const {
    return a ^ b;
  }
};
// PMULLW/PMULLD: the low half of the product.
struct MulLow {
  template <class L>
  L operator()(L a, L b) const {
    return static_cast<L>(static_cast<Wider<L>>(a) * static_cast<Wider<L>>(b));
  }
};
// PMULHW/PMULHUW: the high half of the product.
struct MulHigh {
  template <class L>
  L operator()(L a, L b) const {
    return static_cast<L>((static_cast<Wider<L>>(a) * static_cast<Wider<L>>(b)) >> (8 * sizeof(L)));
  }
};
// PAVGB/PAVGW: (a + b + 1) >> 1 on unsigned lanes.
struct Average {
  template <class L>
  L operator()(L a, L b) const {
    return static_cast<L>((static_cast<uint32_t>(a) + b + 1) >> 1);
  }
};

// r[i] = f(a[2i], a[2i+1]) for the first half, f(b[2i], b[2i+1]) for the second half:
// the horizontal operations of SSSE3 (PHADDW & co.).
template <class L, class F>
struct Pairwise {
  template <size_t N>
  static Vec<N> apply(const Vec<N>& a, const Vec<N>& b, uint8_t) {
    constexpr size_t kHalf = Vec<N>::template lanes<L>() / 2;
    Vec<N> r;
    for (size_t i = 0; i < kHalf; ++i) {
      r.template set<L>(i, F{}(a.template get<L>(2 * i), a.template get<L>(2 * i + 1)));
      r.template set<L>(kHalf + i, F{}(b.template get<L>(2 * i), b.template get<L>(2 * i + 1)));
    }
    return r;
  }
};

// PACKSSWB PACKSSDW PACKUSWB PACKUSDW: the lanes of a then b, each saturated from S (signed) to D.
template <class S, class D>
struct Pack {
  template <size_t N>
  static Vec<N> apply(const Vec<N>& a, const Vec<N>& b, uint8_t) {
    constexpr size_t kCount = Vec<N>::template lanes<S>();
    Vec<N> r;
    for (size_t i = 0; i < kCount; ++i) {
      r.template set<D>(i, saturate<D>(a.template get<S>(i)));
      r.template set<D>(kCount + i, saturate<D>(b.template get<S>(i)));
    }
    return r;
  }
};

// PMULUDQ/PMULDQ: the even 32-bit lanes multiplied into 64-bit lanes (L: uint32_t or int32_t).
template <class L>
struct MulEven {
  template <size_t N>
  static Vec<N> apply(const Vec<N>& a, const Vec<N>& b, uint8_t) {
    Vec<N> r;
    for (size_t i = 0; i < N / 8; ++i) {
      const auto product = static_cast<Wider<L>>(a.template get<L>(2 * i)) *
                           static_cast<Wider<L>>(b.template get<L>(2 * i));
      r.template set<uint64_t>(i, static_cast<uint64_t>(product));
    }
    return r;
  }
};

// PMADDWD: pairs of signed word products summed into doublewords (SDM Vol. 2B PMADDWD; the
// sum of two (-32768)^2 products wraps to 80000000H).
struct MultiplyAddWords {
  template <size_t N>
  static Vec<N> apply(const Vec<N>& a, const Vec<N>& b, uint8_t) {
    Vec<N> r;
    for (size_t i = 0; i < N / 4; ++i) {
      const int64_t sum =
          int64_t{a.template get<int16_t>(2 * i)} * b.template get<int16_t>(2 * i) +
          int64_t{a.template get<int16_t>(2 * i + 1)} * b.template get<int16_t>(2 * i + 1);
      r.template set<uint32_t>(i, static_cast<uint32_t>(sum));
    }
    return r;
  }
};

// PSADBW: per 8-byte group, the sum of absolute byte differences in the low word of a
// zero-extended quadword.
struct SumAbsoluteDifferences {
  template <size_t N>
  static Vec<N> apply(const Vec<N>& a, const Vec<N>& b, uint8_t) {
    Vec<N> r;
    for (size_t q = 0; q < N / 8; ++q) {
      uint64_t sum = 0;
      for (size_t i = 8 * q; i < 8 * q + 8; ++i) {
        sum += a.bytes[i] > b.bytes[i] ? a.bytes[i] - b.bytes[i] : b.bytes[i] - a.bytes[i];
      }
      r.template set<uint64_t>(q, sum);
    }
    return r;
  }
};

// PINSRW/PINSRB/PINSRD/PINSRQ: lane imm8 (modulo the lane count) of the destination register
// replaced by the low bits of a general-purpose register or by memory (L = void: the operand
// size T, for PINSRD/PINSRQ).
template <class L = void>
struct InsertLane : Simd<InsertLane<L>> {
  template <class T, bool kMem, OperandList kOps>
  static Status run(SoftCpu& cpu, const Insn& insn) {
    using Lane = std::conditional_t<std::is_void_v<L>, T, L>;
    using Dst = VArg<kOps, 0, kMem>;
    Lane value{};
    if (!Arg<kOps, 1, kMem>::template read<Lane>(cpu, insn, value)) return Status::kFault;
    constexpr size_t N = Dst::kRegisterBytes;
    Vec<N> v;
    Dst::template read<N>(cpu, insn, v);
    v.template set<Lane>(static_cast<uint8_t>(insn.imm) % Vec<N>::template lanes<Lane>(), value);
    Dst::write(cpu, insn, v);
    return Status::kNext;
  }
};

// PEXTRW/PEXTRB/PEXTRD/PEXTRQ/EXTRACTPS: lane imm8 (modulo the lane count) of the source register
// into a general-purpose register (zero-extended) or memory (the lane's bytes).
template <class L = void>
struct ExtractLane : Simd<ExtractLane<L>> {
  template <class T, bool kMem, OperandList kOps>
  static Status run(SoftCpu& cpu, const Insn& insn) {
    using Lane = std::conditional_t<std::is_void_v<L>, T, L>;
    using Src = VArg<kOps, 1, kMem>;
    using Dst = Arg<kOps, 0, kMem>;
    constexpr size_t N = Src::kRegisterBytes;
    Vec<N> v;
    Src::template read<N>(cpu, insn, v);
    const Lane value =
        v.template get<Lane>(static_cast<uint8_t>(insn.imm) % Vec<N>::template lanes<Lane>());
    if constexpr (Dst::kInMemory || sizeof(Lane) == 8) {
      return Dst::template write<Lane>(cpu, insn, value) ? Status::kNext : Status::kFault;
    } else {
      Dst::template write<uint32_t>(cpu, insn, value);
      return Status::kNext;
    }
  }
};

}  // namespace cella::soft
