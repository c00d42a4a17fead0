// SSE/SSE2/SSE3 floating-point arithmetic: ADD SUB MUL DIV MIN MAX SQRT (PS PD SS SD), RCPPS
// RCPSS RSQRTPS RSQRTSS, ADDSUBPS ADDSUBPD, HADDPS HADDPD HSUBPS HSUBPD (SDM Vol. 2, each
// instruction's page), run on the host's SSE unit (sse_fp.h).
#include "engines/soft/exec/sse_fp_ops.h"

namespace cella::soft {

namespace {

using namespace attr;
using namespace fp_ops;
using K = FpKind;

CELLA_HOST_SSE(HostAddsubps, "addsubps");
CELLA_HOST_SSE(HostAddsubpd, "addsubpd");
CELLA_HOST_SSE(MinPs, "minps");
CELLA_HOST_SSE(MinPd, "minpd");
CELLA_HOST_SSE(MinSs, "minss");
CELLA_HOST_SSE(MinSd, "minsd");
CELLA_HOST_SSE(MaxPs, "maxps");
CELLA_HOST_SSE(MaxPd, "maxpd");
CELLA_HOST_SSE(MaxSs, "maxss");
CELLA_HOST_SSE(MaxSd, "maxsd");
CELLA_HOST_SSE(SqrtPs, "sqrtps");
CELLA_HOST_SSE(SqrtPd, "sqrtpd");
CELLA_HOST_SSE(SqrtSs, "sqrtss");
CELLA_HOST_SSE(SqrtSd, "sqrtsd");
// RCP and RSQRT approximations are implementation-specific (SDM Vol. 2B RCPPS: relative error
// at most 1.5 * 2^-12); the host's are as good as any processor's.
CELLA_HOST_SSE(RcpPs, "rcpps");
CELLA_HOST_SSE(RcpSs, "rcpss");
CELLA_HOST_SSE(RsqrtPs, "rsqrtps");
CELLA_HOST_SSE(RsqrtSs, "rsqrtss");

// SDM Vol. 2A ADDSUBPS: even lanes subtract, odd lanes add.
using AddsubPs = Ranged<HostAddsubps, float, float, 4, K::kSub, K::kAdd>;
using AddsubPd = Ranged<HostAddsubpd, double, double, 2, K::kSub, K::kAdd>;

// SDM Vol. 2A HADDPS/HSUBPS: r = (a0 op a1, a2 op a3, b0 op b1, b2 op b3) (doubles: a0 op a1,
// b0 op b1), which is Op applied lane-wise to the even lanes and the odd lanes of (a, b): the
// same roundings, NaN choices and flags as the host's HADDPS.
template <class Op, class L>
struct Horizontal {
  static bool execute(SoftCpu& cpu, Vec128& a, const Vec128& b, uint8_t) {
    constexpr size_t kHalf = Vec128::lanes<L>() / 2;
    Vec128 even, odd;
    for (size_t i = 0; i < kHalf; ++i) {
      even.set<L>(i, a.get<L>(2 * i));
      odd.set<L>(i, a.get<L>(2 * i + 1));
      even.set<L>(kHalf + i, b.get<L>(2 * i));
      odd.set<L>(kHalf + i, b.get<L>(2 * i + 1));
    }
    if (!run_fp<Op>(cpu, even, odd)) return false;
    a = even;
    return true;
  }
};

template <class Op>
using F = FpForm<Fp<Op>>;
template <class Op>
using F3 = FpForm<Fp<Op>, 16, HostSse::kSse3>;
template <class Op, class L>
using H = FpForm<Horizontal<Op, L>>;

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic    opcode         operands     attributes semantics
    FORM("ADDPS",    "NP 0F 58 /r", "Vps,Wps", kSse,  F<AddPs>),
    FORM("ADDPD",    "66 0F 58 /r", "Vpd,Wpd", kSse2, F<AddPd>),
    FORM("ADDSS",    "F3 0F 58 /r", "Vss,Wss", kSse,  F<AddSs>),
    FORM("ADDSD",    "F2 0F 58 /r", "Vsd,Wsd", kSse2, F<AddSd>),
    FORM("MULPS",    "NP 0F 59 /r", "Vps,Wps", kSse,  F<MulPs>),
    FORM("MULPD",    "66 0F 59 /r", "Vpd,Wpd", kSse2, F<MulPd>),
    FORM("MULSS",    "F3 0F 59 /r", "Vss,Wss", kSse,  F<MulSs>),
    FORM("MULSD",    "F2 0F 59 /r", "Vsd,Wsd", kSse2, F<MulSd>),
    FORM("SUBPS",    "NP 0F 5C /r", "Vps,Wps", kSse,  F<SubPs>),
    FORM("SUBPD",    "66 0F 5C /r", "Vpd,Wpd", kSse2, F<SubPd>),
    FORM("SUBSS",    "F3 0F 5C /r", "Vss,Wss", kSse,  F<SubSs>),
    FORM("SUBSD",    "F2 0F 5C /r", "Vsd,Wsd", kSse2, F<SubSd>),
    FORM("MINPS",    "NP 0F 5D /r", "Vps,Wps", kSse,  F<MinPs>),
    FORM("MINPD",    "66 0F 5D /r", "Vpd,Wpd", kSse2, F<MinPd>),
    FORM("MINSS",    "F3 0F 5D /r", "Vss,Wss", kSse,  F<MinSs>),
    FORM("MINSD",    "F2 0F 5D /r", "Vsd,Wsd", kSse2, F<MinSd>),
    FORM("DIVPS",    "NP 0F 5E /r", "Vps,Wps", kSse,  F<DivPs>),
    FORM("DIVPD",    "66 0F 5E /r", "Vpd,Wpd", kSse2, F<DivPd>),
    FORM("DIVSS",    "F3 0F 5E /r", "Vss,Wss", kSse,  F<DivSs>),
    FORM("DIVSD",    "F2 0F 5E /r", "Vsd,Wsd", kSse2, F<DivSd>),
    FORM("MAXPS",    "NP 0F 5F /r", "Vps,Wps", kSse,  F<MaxPs>),
    FORM("MAXPD",    "66 0F 5F /r", "Vpd,Wpd", kSse2, F<MaxPd>),
    FORM("MAXSS",    "F3 0F 5F /r", "Vss,Wss", kSse,  F<MaxSs>),
    FORM("MAXSD",    "F2 0F 5F /r", "Vsd,Wsd", kSse2, F<MaxSd>),
    FORM("SQRTPS",   "NP 0F 51 /r", "Vps,Wps", kSse,  F<SqrtPs>),
    FORM("SQRTPD",   "66 0F 51 /r", "Vpd,Wpd", kSse2, F<SqrtPd>),
    FORM("SQRTSS",   "F3 0F 51 /r", "Vss,Wss", kSse,  F<SqrtSs>),
    FORM("SQRTSD",   "F2 0F 51 /r", "Vsd,Wsd", kSse2, F<SqrtSd>),
    FORM("RSQRTPS",  "NP 0F 52 /r", "Vps,Wps", kSse,  F<RsqrtPs>),
    FORM("RSQRTSS",  "F3 0F 52 /r", "Vss,Wss", kSse,  F<RsqrtSs>),
    FORM("RCPPS",    "NP 0F 53 /r", "Vps,Wps", kSse,  F<RcpPs>),
    FORM("RCPSS",    "F3 0F 53 /r", "Vss,Wss", kSse,  F<RcpSs>),
    FORM("ADDSUBPD", "66 0F D0 /r", "Vpd,Wpd", kSse3, F3<AddsubPd>),
    FORM("ADDSUBPS", "F2 0F D0 /r", "Vps,Wps", kSse3, F3<AddsubPs>),
    FORM("HADDPD",   "66 0F 7C /r", "Vpd,Wpd", kSse3, H<AddPd, uint64_t>),
    FORM("HADDPS",   "F2 0F 7C /r", "Vps,Wps", kSse3, H<AddPs, uint32_t>),
    FORM("HSUBPD",   "66 0F 7D /r", "Vpd,Wpd", kSse3, H<SubPd, uint64_t>),
    FORM("HSUBPS",   "F2 0F 7D /r", "Vps,Wps", kSse3, H<SubPs, uint32_t>),
};
// clang-format on

}  // namespace

std::span<const FormSpec> sse_arith_fp_forms() {
  return kForms;
}

}  // namespace cella::soft
