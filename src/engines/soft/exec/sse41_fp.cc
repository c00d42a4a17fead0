// SSE4.1 floating point: ROUNDPS ROUNDPD ROUNDSS ROUNDSD DPPS DPPD (SDM Vol. 2B, each
// instruction's page), run on the host's SSE4.1 unit (sse_fp.h). The immediate is part of the
// host instruction, so each value has its own instantiation (16 for ROUND*, whose imm8[7:4] are
// ignored; 256 for DPP*).
#include "engines/soft/exec/sse_fp.h"

namespace cella::soft {

namespace {

using namespace attr;

CELLA_HOST_SSE_IMM(RoundPs, "roundps");
CELLA_HOST_SSE_IMM(RoundPd, "roundpd");
CELLA_HOST_SSE_IMM(RoundSs, "roundss");
CELLA_HOST_SSE_IMM(RoundSd, "roundsd");
// DPPS/DPPD round every product and sum; with unmasked overflow or underflow their flags are
// those of the masked host run (the lane-exact refinement of run_fp covers one operation per
// lane only).
CELLA_HOST_SSE_IMM(DpPs, "dpps");
CELLA_HOST_SSE_IMM(DpPd, "dppd");

template <template <int> class Op, int kCount>
using F = FpForm<FpImm<Op, kCount>, 16, HostSse::kSse41>;

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic  opcode            operands       attributes semantics
    FORM("ROUNDPS", "66 0F 3A 08 /r", "Vx,Wx,Ib",   kSse41, F<RoundPs, 16>),
    FORM("ROUNDPD", "66 0F 3A 09 /r", "Vx,Wx,Ib",   kSse41, F<RoundPd, 16>),
    FORM("ROUNDSS", "66 0F 3A 0A /r", "Vss,Wss,Ib", kSse41, F<RoundSs, 16>),
    FORM("ROUNDSD", "66 0F 3A 0B /r", "Vsd,Wsd,Ib", kSse41, F<RoundSd, 16>),
    FORM("DPPS",    "66 0F 3A 40 /r", "Vx,Wx,Ib",   kSse41, F<DpPs, 256>),
    FORM("DPPD",    "66 0F 3A 41 /r", "Vx,Wx,Ib",   kSse41, F<DpPd, 256>),
};
// clang-format on

}  // namespace

std::span<const FormSpec> sse41_fp_forms() {
  return kForms;
}

}  // namespace cella::soft
