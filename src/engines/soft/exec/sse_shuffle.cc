// Packing, unpacking and shuffles on MMX and XMM registers: PUNPCKL*/PUNPCKH* PACKSSWB PACKSSDW
// PACKUSWB UNPCKLPS UNPCKHPS UNPCKLPD UNPCKHPD PSHUFW PSHUFD PSHUFHW PSHUFLW SHUFPS SHUFPD
// MOVDDUP MOVSLDUP MOVSHDUP PINSRW PEXTRW (SDM Vol. 2, each instruction's page).
#include "engines/soft/exec/sse_int.h"

namespace cella::soft {

namespace {

using namespace attr;

// PUNPCKL*/PUNPCKH*: the low (or high) halves of a and b interleaved, a's lane first.
template <class L, bool kHigh>
struct Unpack {
  template <size_t N>
  static Vec<N> apply(const Vec<N>& a, const Vec<N>& b, uint8_t) {
    constexpr size_t kHalf = Vec<N>::template lanes<L>() / 2;
    constexpr size_t kBase = kHigh ? kHalf : 0;
    Vec<N> r;
    for (size_t i = 0; i < kHalf; ++i) {
      r.template set<L>(2 * i, a.template get<L>(kBase + i));
      r.template set<L>(2 * i + 1, b.template get<L>(kBase + i));
    }
    return r;
  }
};

// PSHUFW/PSHUFD: r[i] = b[imm8 bits 2i+1:2i], over four lanes of L starting at lane kFirst;
// the other lanes are copied from b (PSHUFHW/PSHUFLW).
template <class L, size_t kFirst = 0>
struct Shuffle4 {
  template <size_t N>
  static Vec<N> apply(const Vec<N>&, const Vec<N>& b, uint8_t imm) {
    Vec<N> r = b;
    for (size_t i = 0; i < 4; ++i) {
      r.template set<L>(kFirst + i, b.template get<L>(kFirst + ((imm >> (2 * i)) & 3)));
    }
    return r;
  }
};

// SHUFPS: r = (a[imm 1:0], a[imm 3:2], b[imm 5:4], b[imm 7:6]); SHUFPD: (a[imm 0], b[imm 1]).
template <class L>
struct ShuffleTwo {
  template <size_t N>
  static Vec<N> apply(const Vec<N>& a, const Vec<N>& b, uint8_t imm) {
    constexpr size_t kLanes = Vec<N>::template lanes<L>();
    constexpr unsigned kBits = kLanes == 4 ? 2 : 1;
    Vec<N> r;
    for (size_t i = 0; i < kLanes; ++i) {
      const size_t pick = (imm >> (kBits * i)) & (kLanes - 1);
      r.template set<L>(i, (i < kLanes / 2 ? a : b).template get<L>(pick));
    }
    return r;
  }
};

// MOVDDUP (quadwords), MOVSLDUP/MOVSHDUP (doublewords): r[i] = b[(i & ~1) + kOdd].
template <class L, size_t kOdd>
struct Duplicate {
  template <size_t N>
  static Vec<N> apply(const Vec<N>&, const Vec<N>& b, uint8_t) {
    Vec<N> r;
    for (size_t i = 0; i < Vec<N>::template lanes<L>(); ++i) {
      r.template set<L>(i, b.template get<L>((i & ~size_t{1}) + kOdd));
    }
    return r;
  }
};

template <class Op>
using P = Packed<Op>;
using namespace lane;

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic      opcode         operands       attributes semantics
    FORM("PUNPCKLBW",  "NP 0F 60 /r", "Pq,Qd",      kMmx,  P<Unpack<u8, false>>),
    FORM("PUNPCKLBW",  "66 0F 60 /r", "Vx,Wx",      kSse2, P<Unpack<u8, false>>),
    FORM("PUNPCKLWD",  "NP 0F 61 /r", "Pq,Qd",      kMmx,  P<Unpack<u16, false>>),
    FORM("PUNPCKLWD",  "66 0F 61 /r", "Vx,Wx",      kSse2, P<Unpack<u16, false>>),
    FORM("PUNPCKLDQ",  "NP 0F 62 /r", "Pq,Qd",      kMmx,  P<Unpack<u32, false>>),
    FORM("PUNPCKLDQ",  "66 0F 62 /r", "Vx,Wx",      kSse2, P<Unpack<u32, false>>),
    FORM("PACKSSWB",   "NP 0F 63 /r", "Pq,Qq",      kMmx,  P<Pack<int16_t, int8_t>>),
    FORM("PACKSSWB",   "66 0F 63 /r", "Vx,Wx",      kSse2, P<Pack<int16_t, int8_t>>),
    FORM("PACKUSWB",   "NP 0F 67 /r", "Pq,Qq",      kMmx,  P<Pack<int16_t, uint8_t>>),
    FORM("PACKUSWB",   "66 0F 67 /r", "Vx,Wx",      kSse2, P<Pack<int16_t, uint8_t>>),
    FORM("PUNPCKHBW",  "NP 0F 68 /r", "Pq,Qq",      kMmx,  P<Unpack<u8, true>>),
    FORM("PUNPCKHBW",  "66 0F 68 /r", "Vx,Wx",      kSse2, P<Unpack<u8, true>>),
    FORM("PUNPCKHWD",  "NP 0F 69 /r", "Pq,Qq",      kMmx,  P<Unpack<u16, true>>),
    FORM("PUNPCKHWD",  "66 0F 69 /r", "Vx,Wx",      kSse2, P<Unpack<u16, true>>),
    FORM("PUNPCKHDQ",  "NP 0F 6A /r", "Pq,Qq",      kMmx,  P<Unpack<u32, true>>),
    FORM("PUNPCKHDQ",  "66 0F 6A /r", "Vx,Wx",      kSse2, P<Unpack<u32, true>>),
    FORM("PACKSSDW",   "NP 0F 6B /r", "Pq,Qq",      kMmx,  P<Pack<int32_t, int16_t>>),
    FORM("PACKSSDW",   "66 0F 6B /r", "Vx,Wx",      kSse2, P<Pack<int32_t, int16_t>>),
    FORM("PUNPCKLQDQ", "66 0F 6C /r", "Vx,Wx",      kSse2, P<Unpack<u64, false>>),
    FORM("PUNPCKHQDQ", "66 0F 6D /r", "Vx,Wx",      kSse2, P<Unpack<u64, true>>),
    FORM("UNPCKLPS",   "NP 0F 14 /r", "Vps,Wps",    kSse,  P<Unpack<u32, false>>),
    FORM("UNPCKLPD",   "66 0F 14 /r", "Vpd,Wpd",    kSse2, P<Unpack<u64, false>>),
    FORM("UNPCKHPS",   "NP 0F 15 /r", "Vps,Wps",    kSse,  P<Unpack<u32, true>>),
    FORM("UNPCKHPD",   "66 0F 15 /r", "Vpd,Wpd",    kSse2, P<Unpack<u64, true>>),
    FORM("PSHUFW",     "NP 0F 70 /r", "Pq,Qq,Ib",   kSse,  P<Shuffle4<u16>>),
    FORM("PSHUFD",     "66 0F 70 /r", "Vx,Wx,Ib",   kSse2, P<Shuffle4<u32>>),
    FORM("PSHUFHW",    "F3 0F 70 /r", "Vx,Wx,Ib",   kSse2, P<Shuffle4<u16, 4>>),
    FORM("PSHUFLW",    "F2 0F 70 /r", "Vx,Wx,Ib",   kSse2, P<Shuffle4<u16>>),
    FORM("SHUFPS",     "NP 0F C6 /r", "Vps,Wps,Ib", kSse,  P<ShuffleTwo<u32>>),
    FORM("SHUFPD",     "66 0F C6 /r", "Vpd,Wpd,Ib", kSse2, P<ShuffleTwo<u64>>),
    FORM("MOVDDUP",    "F2 0F 12 /r", "Vx,Wq",      kSse3, P<Duplicate<u64, 0>>),
    FORM("MOVSLDUP",   "F3 0F 12 /r", "Vx,Wx",      kSse3, P<Duplicate<u32, 0>>),
    FORM("MOVSHDUP",   "F3 0F 16 /r", "Vx,Wx",      kSse3, P<Duplicate<u32, 1>>),
    FORM("PINSRW",     "NP 0F C4 /r", "Pq,Rd,Ib",   kSse,  InsertLane<u16>),
    FORM("PINSRW",     "NP 0F C4 /r", "Pq,Mw,Ib",   kSse,  InsertLane<u16>),
    FORM("PINSRW",     "66 0F C4 /r", "Vdq,Rd,Ib",  kSse2, InsertLane<u16>),
    FORM("PINSRW",     "66 0F C4 /r", "Vdq,Mw,Ib",  kSse2, InsertLane<u16>),
    FORM("PEXTRW",     "NP 0F C5 /r", "Gd,Nq,Ib",   kSse,  ExtractLane<u16>),
    FORM("PEXTRW",     "66 0F C5 /r", "Gd,Udq,Ib",  kSse2, ExtractLane<u16>),
};
// clang-format on

}  // namespace

std::span<const FormSpec> sse_shuffle_forms() {
  return kForms;
}

}  // namespace cella::soft
