// Integer SIMD arithmetic, comparison and logic on MMX (NP forms) and XMM (66 forms) registers:
// PADD* PSUB* (wrapping and saturating), PMULLW PMULHW PMULHUW PMULUDQ PMADDWD PSADBW PAVGB
// PAVGW PMINUB PMAXUB PMINSW PMAXSW PCMPEQ* PCMPGT* PAND PANDN POR PXOR and the bitwise
// ANDPS ANDNPS ORPS XORPS (PD) (SDM Vol. 2, each instruction's page).
#include "engines/soft/exec/sse_int.h"

namespace cella::soft {

namespace {

using namespace attr;

template <class L, class F>
using P = Packed<Lanes<L, F>>;
template <class Op>
using W = Packed<Op>;
using namespace lane;

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic   opcode         operands   attributes semantics
    FORM("PADDB",   "NP 0F FC /r", "Pq,Qq",   kMmx,  P<u8, AddWrap>),
    FORM("PADDB",   "66 0F FC /r", "Vx,Wx",   kSse2, P<u8, AddWrap>),
    FORM("PADDW",   "NP 0F FD /r", "Pq,Qq",   kMmx,  P<u16, AddWrap>),
    FORM("PADDW",   "66 0F FD /r", "Vx,Wx",   kSse2, P<u16, AddWrap>),
    FORM("PADDD",   "NP 0F FE /r", "Pq,Qq",   kMmx,  P<u32, AddWrap>),
    FORM("PADDD",   "66 0F FE /r", "Vx,Wx",   kSse2, P<u32, AddWrap>),
    FORM("PADDQ",   "NP 0F D4 /r", "Pq,Qq",   kSse2, P<u64, AddWrap>),
    FORM("PADDQ",   "66 0F D4 /r", "Vx,Wx",   kSse2, P<u64, AddWrap>),
    FORM("PSUBB",   "NP 0F F8 /r", "Pq,Qq",   kMmx,  P<u8, SubWrap>),
    FORM("PSUBB",   "66 0F F8 /r", "Vx,Wx",   kSse2, P<u8, SubWrap>),
    FORM("PSUBW",   "NP 0F F9 /r", "Pq,Qq",   kMmx,  P<u16, SubWrap>),
    FORM("PSUBW",   "66 0F F9 /r", "Vx,Wx",   kSse2, P<u16, SubWrap>),
    FORM("PSUBD",   "NP 0F FA /r", "Pq,Qq",   kMmx,  P<u32, SubWrap>),
    FORM("PSUBD",   "66 0F FA /r", "Vx,Wx",   kSse2, P<u32, SubWrap>),
    FORM("PSUBQ",   "NP 0F FB /r", "Pq,Qq",   kSse2, P<u64, SubWrap>),
    FORM("PSUBQ",   "66 0F FB /r", "Vx,Wx",   kSse2, P<u64, SubWrap>),
    FORM("PADDSB",  "NP 0F EC /r", "Pq,Qq",   kMmx,  P<i8, AddSaturate>),
    FORM("PADDSB",  "66 0F EC /r", "Vx,Wx",   kSse2, P<i8, AddSaturate>),
    FORM("PADDSW",  "NP 0F ED /r", "Pq,Qq",   kMmx,  P<i16, AddSaturate>),
    FORM("PADDSW",  "66 0F ED /r", "Vx,Wx",   kSse2, P<i16, AddSaturate>),
    FORM("PADDUSB", "NP 0F DC /r", "Pq,Qq",   kMmx,  P<u8, AddSaturate>),
    FORM("PADDUSB", "66 0F DC /r", "Vx,Wx",   kSse2, P<u8, AddSaturate>),
    FORM("PADDUSW", "NP 0F DD /r", "Pq,Qq",   kMmx,  P<u16, AddSaturate>),
    FORM("PADDUSW", "66 0F DD /r", "Vx,Wx",   kSse2, P<u16, AddSaturate>),
    FORM("PSUBSB",  "NP 0F E8 /r", "Pq,Qq",   kMmx,  P<i8, SubSaturate>),
    FORM("PSUBSB",  "66 0F E8 /r", "Vx,Wx",   kSse2, P<i8, SubSaturate>),
    FORM("PSUBSW",  "NP 0F E9 /r", "Pq,Qq",   kMmx,  P<i16, SubSaturate>),
    FORM("PSUBSW",  "66 0F E9 /r", "Vx,Wx",   kSse2, P<i16, SubSaturate>),
    FORM("PSUBUSB", "NP 0F D8 /r", "Pq,Qq",   kMmx,  P<u8, SubSaturate>),
    FORM("PSUBUSB", "66 0F D8 /r", "Vx,Wx",   kSse2, P<u8, SubSaturate>),
    FORM("PSUBUSW", "NP 0F D9 /r", "Pq,Qq",   kMmx,  P<u16, SubSaturate>),
    FORM("PSUBUSW", "66 0F D9 /r", "Vx,Wx",   kSse2, P<u16, SubSaturate>),
    FORM("PMULLW",  "NP 0F D5 /r", "Pq,Qq",   kMmx,  P<u16, MulLow>),
    FORM("PMULLW",  "66 0F D5 /r", "Vx,Wx",   kSse2, P<u16, MulLow>),
    FORM("PMULHW",  "NP 0F E5 /r", "Pq,Qq",   kMmx,  P<i16, MulHigh>),
    FORM("PMULHW",  "66 0F E5 /r", "Vx,Wx",   kSse2, P<i16, MulHigh>),
    FORM("PMULHUW", "NP 0F E4 /r", "Pq,Qq",   kSse,  P<u16, MulHigh>),
    FORM("PMULHUW", "66 0F E4 /r", "Vx,Wx",   kSse2, P<u16, MulHigh>),
    FORM("PMULUDQ", "NP 0F F4 /r", "Pq,Qq",   kSse2, W<MulEven<u32>>),
    FORM("PMULUDQ", "66 0F F4 /r", "Vx,Wx",   kSse2, W<MulEven<u32>>),
    FORM("PMADDWD", "NP 0F F5 /r", "Pq,Qq",   kMmx,  W<MultiplyAddWords>),
    FORM("PMADDWD", "66 0F F5 /r", "Vx,Wx",   kSse2, W<MultiplyAddWords>),
    FORM("PSADBW",  "NP 0F F6 /r", "Pq,Qq",   kSse,  W<SumAbsoluteDifferences>),
    FORM("PSADBW",  "66 0F F6 /r", "Vx,Wx",   kSse2, W<SumAbsoluteDifferences>),
    FORM("PAVGB",   "NP 0F E0 /r", "Pq,Qq",   kSse,  P<u8, Average>),
    FORM("PAVGB",   "66 0F E0 /r", "Vx,Wx",   kSse2, P<u8, Average>),
    FORM("PAVGW",   "NP 0F E3 /r", "Pq,Qq",   kSse,  P<u16, Average>),
    FORM("PAVGW",   "66 0F E3 /r", "Vx,Wx",   kSse2, P<u16, Average>),
    FORM("PMINUB",  "NP 0F DA /r", "Pq,Qq",   kSse,  P<u8, Min>),
    FORM("PMINUB",  "66 0F DA /r", "Vx,Wx",   kSse2, P<u8, Min>),
    FORM("PMAXUB",  "NP 0F DE /r", "Pq,Qq",   kSse,  P<u8, Max>),
    FORM("PMAXUB",  "66 0F DE /r", "Vx,Wx",   kSse2, P<u8, Max>),
    FORM("PMINSW",  "NP 0F EA /r", "Pq,Qq",   kSse,  P<i16, Min>),
    FORM("PMINSW",  "66 0F EA /r", "Vx,Wx",   kSse2, P<i16, Min>),
    FORM("PMAXSW",  "NP 0F EE /r", "Pq,Qq",   kSse,  P<i16, Max>),
    FORM("PMAXSW",  "66 0F EE /r", "Vx,Wx",   kSse2, P<i16, Max>),
    FORM("PCMPEQB", "NP 0F 74 /r", "Pq,Qq",   kMmx,  P<u8, Equal>),
    FORM("PCMPEQB", "66 0F 74 /r", "Vx,Wx",   kSse2, P<u8, Equal>),
    FORM("PCMPEQW", "NP 0F 75 /r", "Pq,Qq",   kMmx,  P<u16, Equal>),
    FORM("PCMPEQW", "66 0F 75 /r", "Vx,Wx",   kSse2, P<u16, Equal>),
    FORM("PCMPEQD", "NP 0F 76 /r", "Pq,Qq",   kMmx,  P<u32, Equal>),
    FORM("PCMPEQD", "66 0F 76 /r", "Vx,Wx",   kSse2, P<u32, Equal>),
    FORM("PCMPGTB", "NP 0F 64 /r", "Pq,Qq",   kMmx,  P<i8, Greater>),
    FORM("PCMPGTB", "66 0F 64 /r", "Vx,Wx",   kSse2, P<i8, Greater>),
    FORM("PCMPGTW", "NP 0F 65 /r", "Pq,Qq",   kMmx,  P<i16, Greater>),
    FORM("PCMPGTW", "66 0F 65 /r", "Vx,Wx",   kSse2, P<i16, Greater>),
    FORM("PCMPGTD", "NP 0F 66 /r", "Pq,Qq",   kMmx,  P<i32, Greater>),
    FORM("PCMPGTD", "66 0F 66 /r", "Vx,Wx",   kSse2, P<i32, Greater>),
    FORM("PAND",    "NP 0F DB /r", "Pq,Qq",   kMmx,  P<u64, And>),
    FORM("PAND",    "66 0F DB /r", "Vx,Wx",   kSse2, P<u64, And>),
    FORM("PANDN",   "NP 0F DF /r", "Pq,Qq",   kMmx,  P<u64, AndNot>),
    FORM("PANDN",   "66 0F DF /r", "Vx,Wx",   kSse2, P<u64, AndNot>),
    FORM("POR",     "NP 0F EB /r", "Pq,Qq",   kMmx,  P<u64, Or>),
    FORM("POR",     "66 0F EB /r", "Vx,Wx",   kSse2, P<u64, Or>),
    FORM("PXOR",    "NP 0F EF /r", "Pq,Qq",   kMmx,  P<u64, Xor>),
    FORM("PXOR",    "66 0F EF /r", "Vx,Wx",   kSse2, P<u64, Xor>),
    FORM("ANDPS",   "NP 0F 54 /r", "Vps,Wps", kSse,  P<u64, And>),
    FORM("ANDPD",   "66 0F 54 /r", "Vpd,Wpd", kSse2, P<u64, And>),
    FORM("ANDNPS",  "NP 0F 55 /r", "Vps,Wps", kSse,  P<u64, AndNot>),
    FORM("ANDNPD",  "66 0F 55 /r", "Vpd,Wpd", kSse2, P<u64, AndNot>),
    FORM("ORPS",    "NP 0F 56 /r", "Vps,Wps", kSse,  P<u64, Or>),
    FORM("ORPD",    "66 0F 56 /r", "Vpd,Wpd", kSse2, P<u64, Or>),
    FORM("XORPS",   "NP 0F 57 /r", "Vps,Wps", kSse,  P<u64, Xor>),
    FORM("XORPD",   "66 0F 57 /r", "Vpd,Wpd", kSse2, P<u64, Xor>),
};
// clang-format on

}  // namespace

std::span<const FormSpec> sse_int_forms() {
  return kForms;
}

}  // namespace cella::soft
