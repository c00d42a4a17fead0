// SSE4.1 floating point: ROUNDPS ROUNDPD ROUNDSS ROUNDSD DPPS DPPD (SDM Vol. 2A/2B, each
// instruction's page), run on the host's SSE4.1 unit (sse_fp.h). The immediate is part of the
// host instruction, so each value has its own instantiation (16 for ROUND*, whose imm8[7:4] are
// ignored; 256 for DPP*).
#include "engines/soft/exec/sse_fp_ops.h"

namespace cella::soft {

namespace {

using namespace attr;

CELLA_HOST_SSE_IMM(RoundPs, "roundps");
CELLA_HOST_SSE_IMM(RoundPd, "roundpd");
CELLA_HOST_SSE_IMM(RoundSs, "roundss");
CELLA_HOST_SSE_IMM(RoundSd, "roundsd");
CELLA_HOST_SSE_IMM(HostDpps, "dpps");
CELLA_HOST_SSE_IMM(HostDppd, "dppd");

// One step of DPPS/DPPD with unmasked exceptions: its flags join those of the earlier steps, or
// an unmasked one stops the instruction with the earlier steps' flags and this step's (SDM Vol. 1
// 11.5.3 rule). Returns false when the exception was raised.
bool dot_product_step(SoftCpu& cpu, uint32_t& done, uint32_t flags) {
  if ((flags & ~(cpu.arch.mxcsr >> mx::kMaskShift) & mx::kFlags) == 0) {
    done |= flags;
    return true;
  }
  cpu.arch.mxcsr |= done;
  return raise_simd_fp(cpu, flags);
}

// DPPS/DPPD (SDM Vol. 2A DPPS): the products of the lanes imm8[7:4] selects (DPPD: [5:4]; the
// others are +0.0), summed lanes 0+1 and 2+3 and then the two sums, written to the lanes imm8[3:0]
// selects (+0.0 elsewhere). "Exceptions are determined separately for each add and multiply
// operation": with every exception masked the host's DPPS gives the result and the flags; when
// one is unmasked the steps run one after the other (products, pair sums, final sum), and an
// unmasked exception in a step stops the instruction with the flags of the steps before it, as
// the host does.
template <bool kDouble>
struct DotProduct {
  using Lane = std::conditional_t<kDouble, uint64_t, uint32_t>;
  using Fn = void (*)(Vec128&, const Vec128&);
  template <int kImm>
  static void host(Vec128& r, const Vec128& b) {
    __m128i x = to_host(r);
    std::conditional_t<kDouble, HostDppd<kImm>, HostDpps<kImm>>::run(x, to_host(b));
    r = from_host(x);
  }
  template <size_t... kI>
  static constexpr std::array<Fn, sizeof...(kI)> table(std::index_sequence<kI...>) {
    return {&host<static_cast<int>(kI)>...};
  }

  static bool execute(SoftCpu& cpu, Vec128& a, const Vec128& b, uint8_t imm) {
    static constexpr std::array<Fn, 256> kHost = table(std::make_index_sequence<256>());
    Vec128 r = a;
    uint32_t flags;
    {
      HostMxcsr host_mxcsr(cpu.arch.mxcsr);
      kHost[imm](r, b);
      flags = host_mxcsr.flags();
    }
    const uint32_t unmasked = ~(cpu.arch.mxcsr >> mx::kMaskShift) & mx::kFlags;
    if ((flags & unmasked) != 0 || (unmasked & (mx::kOe | mx::kUe)) != 0) [[unlikely]] {
      if (!stepwise(cpu, a, b, imm)) return false;
    } else {
      cpu.arch.mxcsr |= flags;
    }
    a = r;
    return true;
  }

  static bool stepwise(SoftCpu& cpu, const Vec128& a, const Vec128& b, uint8_t imm) {
    const uint32_t mxcsr = cpu.arch.mxcsr;
    uint32_t done = 0;
    Vec128 products = a, selected = b;
    for (size_t i = 0; i < Vec128::lanes<Lane>(); ++i) {
      if (!((imm >> (4 + i)) & 1)) products.set<Lane>(i, 0), selected.set<Lane>(i, 0);
    }
    using Mul = std::conditional_t<kDouble, fp_ops::MulPd, fp_ops::MulPs>;
    if (!dot_product_step(cpu, done, run_on_host<Mul>(mxcsr, products, selected))) return false;
    Vec128 even, odd;  // the pair sums: lanes 0 + 1 (and 2 + 3)
    for (size_t i = 0; i < Vec128::lanes<Lane>() / 2; ++i) {
      even.set<Lane>(i, products.get<Lane>(2 * i));
      odd.set<Lane>(i, products.get<Lane>(2 * i + 1));
    }
    using Add = std::conditional_t<kDouble, fp_ops::AddSd, fp_ops::AddPs>;
    if (!dot_product_step(cpu, done, run_on_host<Add>(mxcsr, even, odd))) return false;
    if constexpr (!kDouble) {
      Vec128 high;
      high.set<Lane>(0, even.get<Lane>(1));
      if (!dot_product_step(cpu, done, run_on_host<fp_ops::AddSs>(mxcsr, even, high))) {
        return false;
      }
    }
    cpu.arch.mxcsr |= done;
    return true;
  }
};

template <template <int> class Op>
using Round = FpForm<FpImm<Op, 16>, 16, HostSse::kSse41>;
template <bool kDouble>
using Dot = FpForm<DotProduct<kDouble>, 16, HostSse::kSse41>;

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic  opcode            operands       attributes semantics
    FORM("ROUNDPS", "66 0F 3A 08 /r", "Vx,Wx,Ib",   kSse41, Round<RoundPs>),
    FORM("ROUNDPD", "66 0F 3A 09 /r", "Vx,Wx,Ib",   kSse41, Round<RoundPd>),
    FORM("ROUNDSS", "66 0F 3A 0A /r", "Vss,Wss,Ib", kSse41, Round<RoundSs>),
    FORM("ROUNDSD", "66 0F 3A 0B /r", "Vsd,Wsd,Ib", kSse41, Round<RoundSd>),
    FORM("DPPS",    "66 0F 3A 40 /r", "Vx,Wx,Ib",   kSse41, Dot<false>),
    FORM("DPPD",    "66 0F 3A 41 /r", "Vx,Wx,Ib",   kSse41, Dot<true>),
};
// clang-format on

}  // namespace

std::span<const FormSpec> sse41_fp_forms() {
  return kForms;
}

}  // namespace cella::soft
