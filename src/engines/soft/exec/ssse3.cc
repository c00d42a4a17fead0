// SSSE3 on MMX (NP forms) and XMM (66 forms) registers: PSHUFB PHADDW PHADDD PHADDSW PHSUBW
// PHSUBD PHSUBSW PMADDUBSW PMULHRSW PSIGNB PSIGNW PSIGND PABSB PABSW PABSD PALIGNR (SDM Vol. 2,
// each instruction's page).
#include "engines/soft/exec/sse_int.h"

namespace cella::soft {

namespace {

using namespace attr;

// PSHUFB: r[i] = 0 if b[i] bit 7 is set, else a[b[i] modulo the register width].
struct ShuffleBytes {
  template <size_t N>
  static Vec<N> apply(const Vec<N>& a, const Vec<N>& b, uint8_t) {
    Vec<N> r;
    for (size_t i = 0; i < N; ++i) r.bytes[i] = (b.bytes[i] & 0x80) ? 0 : a.bytes[b.bytes[i] % N];
    return r;
  }
};

// PMADDUBSW: unsigned bytes of a times signed bytes of b, adjacent products summed into signed
// words with saturation.
struct MultiplyAddBytes {
  template <size_t N>
  static Vec<N> apply(const Vec<N>& a, const Vec<N>& b, uint8_t) {
    Vec<N> r;
    for (size_t i = 0; i < N / 2; ++i) {
      const int64_t sum = int64_t{a.bytes[2 * i]} * static_cast<int8_t>(b.bytes[2 * i]) +
                          int64_t{a.bytes[2 * i + 1]} * static_cast<int8_t>(b.bytes[2 * i + 1]);
      r.template set<int16_t>(i, saturate<int16_t>(sum));
    }
    return r;
  }
};

// PMULHRSW: ((a * b >> 14) + 1) >> 1, truncated to 16 bits.
struct MulHighRoundScale {
  int16_t operator()(int16_t a, int16_t b) const {
    return static_cast<int16_t>((((int32_t{a} * b) >> 14) + 1) >> 1);
  }
};

// Two's-complement negation that wraps (-(-128) = -128).
template <class L>
L negate(L v) {
  return static_cast<L>(0 - static_cast<std::make_unsigned_t<L>>(v));
}

// PSIGN*: a negated, zeroed or kept as b is negative, zero or positive (wrapping negation).
struct Sign {
  template <class L>
  L operator()(L a, L b) const {
    return b < 0 ? negate(a) : (b == 0 ? L{0} : a);
  }
};

// PABS*: |b| as an unsigned lane (|-128| = 80H).
struct Absolute {
  template <class L>
  L operator()(L, L b) const {
    return b < 0 ? negate(b) : b;
  }
};

// PALIGNR: the concatenation a:b (b in the low half) shifted right by imm8 bytes; its low half.
struct AlignBytes {
  template <size_t N>
  static Vec<N> apply(const Vec<N>& a, const Vec<N>& b, uint8_t imm) {
    Vec<N> r;
    for (size_t i = 0; i < N; ++i) {
      const size_t at = i + imm;
      r.bytes[i] = at < N ? b.bytes[at] : (at < 2 * N ? a.bytes[at - N] : 0);
    }
    return r;
  }
};

template <class L, class F>
using L2 = Packed<Lanes<L, F>>;
template <class L, class F>
using H = Packed<Pairwise<L, F>>;
template <class Op>
using P = Packed<Op>;

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic    opcode            operands    attributes semantics
    FORM("PSHUFB",    "NP 0F 38 00 /r", "Pq,Qq",    kSsse3, P<ShuffleBytes>),
    FORM("PSHUFB",    "66 0F 38 00 /r", "Vx,Wx",    kSsse3, P<ShuffleBytes>),
    FORM("PHADDW",    "NP 0F 38 01 /r", "Pq,Qq",    kSsse3, H<uint16_t, AddWrap>),
    FORM("PHADDW",    "66 0F 38 01 /r", "Vx,Wx",    kSsse3, H<uint16_t, AddWrap>),
    FORM("PHADDD",    "NP 0F 38 02 /r", "Pq,Qq",    kSsse3, H<uint32_t, AddWrap>),
    FORM("PHADDD",    "66 0F 38 02 /r", "Vx,Wx",    kSsse3, H<uint32_t, AddWrap>),
    FORM("PHADDSW",   "NP 0F 38 03 /r", "Pq,Qq",    kSsse3, H<int16_t, AddSaturate>),
    FORM("PHADDSW",   "66 0F 38 03 /r", "Vx,Wx",    kSsse3, H<int16_t, AddSaturate>),
    FORM("PMADDUBSW", "NP 0F 38 04 /r", "Pq,Qq",    kSsse3, P<MultiplyAddBytes>),
    FORM("PMADDUBSW", "66 0F 38 04 /r", "Vx,Wx",    kSsse3, P<MultiplyAddBytes>),
    FORM("PHSUBW",    "NP 0F 38 05 /r", "Pq,Qq",    kSsse3, H<uint16_t, SubWrap>),
    FORM("PHSUBW",    "66 0F 38 05 /r", "Vx,Wx",    kSsse3, H<uint16_t, SubWrap>),
    FORM("PHSUBD",    "NP 0F 38 06 /r", "Pq,Qq",    kSsse3, H<uint32_t, SubWrap>),
    FORM("PHSUBD",    "66 0F 38 06 /r", "Vx,Wx",    kSsse3, H<uint32_t, SubWrap>),
    FORM("PHSUBSW",   "NP 0F 38 07 /r", "Pq,Qq",    kSsse3, H<int16_t, SubSaturate>),
    FORM("PHSUBSW",   "66 0F 38 07 /r", "Vx,Wx",    kSsse3, H<int16_t, SubSaturate>),
    FORM("PSIGNB",    "NP 0F 38 08 /r", "Pq,Qq",    kSsse3, L2<int8_t, Sign>),
    FORM("PSIGNB",    "66 0F 38 08 /r", "Vx,Wx",    kSsse3, L2<int8_t, Sign>),
    FORM("PSIGNW",    "NP 0F 38 09 /r", "Pq,Qq",    kSsse3, L2<int16_t, Sign>),
    FORM("PSIGNW",    "66 0F 38 09 /r", "Vx,Wx",    kSsse3, L2<int16_t, Sign>),
    FORM("PSIGND",    "NP 0F 38 0A /r", "Pq,Qq",    kSsse3, L2<int32_t, Sign>),
    FORM("PSIGND",    "66 0F 38 0A /r", "Vx,Wx",    kSsse3, L2<int32_t, Sign>),
    FORM("PMULHRSW",  "NP 0F 38 0B /r", "Pq,Qq",    kSsse3, L2<int16_t, MulHighRoundScale>),
    FORM("PMULHRSW",  "66 0F 38 0B /r", "Vx,Wx",    kSsse3, L2<int16_t, MulHighRoundScale>),
    FORM("PABSB",     "NP 0F 38 1C /r", "Pq,Qq",    kSsse3, L2<int8_t, Absolute>),
    FORM("PABSB",     "66 0F 38 1C /r", "Vx,Wx",    kSsse3, L2<int8_t, Absolute>),
    FORM("PABSW",     "NP 0F 38 1D /r", "Pq,Qq",    kSsse3, L2<int16_t, Absolute>),
    FORM("PABSW",     "66 0F 38 1D /r", "Vx,Wx",    kSsse3, L2<int16_t, Absolute>),
    FORM("PABSD",     "NP 0F 38 1E /r", "Pq,Qq",    kSsse3, L2<int32_t, Absolute>),
    FORM("PABSD",     "66 0F 38 1E /r", "Vx,Wx",    kSsse3, L2<int32_t, Absolute>),
    FORM("PALIGNR",   "NP 0F 3A 0F /r", "Pq,Qq,Ib", kSsse3, P<AlignBytes>),
    FORM("PALIGNR",   "66 0F 3A 0F /r", "Vx,Wx,Ib", kSsse3, P<AlignBytes>),
};
// clang-format on

}  // namespace

std::span<const FormSpec> ssse3_forms() {
  return kForms;
}

}  // namespace cella::soft
