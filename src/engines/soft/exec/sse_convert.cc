// SSE/SSE2 conversions: CVTPI2PS CVTPI2PD CVTSI2SS CVTSI2SD CVTPS2PI CVTTPS2PI CVTPD2PI
// CVTTPD2PI CVTSS2SI CVTTSS2SI CVTSD2SI CVTTSD2SI CVTPS2PD CVTPD2PS CVTSS2SD CVTSD2SS CVTDQ2PS
// CVTPS2DQ CVTTPS2DQ CVTDQ2PD CVTPD2DQ CVTTPD2DQ (SDM Vol. 2A, each instruction's page), run on
// the host's SSE unit (sse_fp.h): rounding, the integer indefinite 80000000H on invalid
// conversions, and the flags are the hardware's.
#include "engines/soft/exec/sse_fp.h"

namespace cella::soft {

namespace {

using namespace attr;

CELLA_HOST_SSE(Cvtdq2ps, "cvtdq2ps");
CELLA_HOST_SSE(Cvtps2dq, "cvtps2dq");
CELLA_HOST_SSE(Cvttps2dq, "cvttps2dq");
CELLA_HOST_SSE(Cvtdq2pd, "cvtdq2pd");
CELLA_HOST_SSE(Cvtpd2dq, "cvtpd2dq");
CELLA_HOST_SSE(Cvttpd2dq, "cvttpd2dq");
CELLA_HOST_SSE(Cvtps2pd, "cvtps2pd");
CELLA_HOST_SSE(HostCvtpd2ps, "cvtpd2ps");
CELLA_HOST_SSE(Cvtss2sd, "cvtss2sd");
CELLA_HOST_SSE(HostCvtsd2ss, "cvtsd2ss");
using Cvtpd2ps = Ranged<HostCvtpd2ps, double, float, 2, FpKind::kNarrow>;
using Cvtsd2ss = Ranged<HostCvtsd2ss, double, float, 1, FpKind::kNarrow>;

// Scalar to a general-purpose register (32 or 64 bits by REX.W).
#define CELLA_HOST_TO_INT(Name, mnemonic)                     \
  struct Name {                                               \
    template <class T>                                        \
    static T run(__m128i x) {                                 \
      T r;                                                    \
      if constexpr (sizeof(T) == 4)                           \
        asm volatile(mnemonic " %1, %k0" : "=r"(r) : "x"(x)); \
      else                                                    \
        asm volatile(mnemonic " %1, %q0" : "=r"(r) : "x"(x)); \
      return r;                                               \
    }                                                         \
  }
CELLA_HOST_TO_INT(Cvtss2si, "cvtss2si");
CELLA_HOST_TO_INT(Cvttss2si, "cvttss2si");
CELLA_HOST_TO_INT(Cvtsd2si, "cvtsd2si");
CELLA_HOST_TO_INT(Cvttsd2si, "cvttsd2si");

// A signed 32- or 64-bit integer into the low lane.
#define CELLA_HOST_FROM_INT(Name, mnemonic)                       \
  struct Name {                                                   \
    template <class T>                                            \
    static void run(__m128i& a, T value) {                        \
      if constexpr (sizeof(T) == 4)                               \
        asm volatile(mnemonic " %k1, %0" : "+x"(a) : "r"(value)); \
      else                                                        \
        asm volatile(mnemonic " %q1, %0" : "+x"(a) : "r"(value)); \
    }                                                             \
  }
CELLA_HOST_FROM_INT(Cvtsi2ss, "cvtsi2ss");
CELLA_HOST_FROM_INT(Cvtsi2sd, "cvtsi2sd");

// CVTSS2SI & co.: Gy = convert(Wss/Wsd).
template <class Op>
struct ToInt : Simd<ToInt<Op>> {
  template <class T, bool kMem, OperandList kOps>
  static Status run(SoftCpu& cpu, const Insn& insn) {
    Vec128 b;
    if (!VArg<kOps, 1, kMem>::template read<16>(cpu, insn, b)) return Status::kFault;
    T result;
    uint32_t flags;
    {
      HostMxcsr host(cpu.arch.mxcsr);
      result = Op::template run<T>(to_host(b));
      flags = host.flags();
    }
    if (!commit_fp_flags(cpu, flags)) return Status::kFault;
    cpu.set_reg<T>(insn.reg, result);
    return Status::kNext;
  }
};

// CVTSI2SS & co.: the low lane of Vss/Vsd = convert(Ey); the other lanes are kept.
template <class Op>
struct FromInt : Simd<FromInt<Op>> {
  template <class T, bool kMem, OperandList kOps>
  static Status run(SoftCpu& cpu, const Insn& insn) {
    T value{};
    if (!Arg<kOps, 1, kMem>::template read<T>(cpu, insn, value)) return Status::kFault;
    __m128i r = _mm_loadu_si128(reinterpret_cast<const __m128i*>(xmm_bytes(cpu, insn.reg)));
    uint32_t flags;
    {
      HostMxcsr host(cpu.arch.mxcsr);
      Op::template run<T>(r, value);
      flags = host.flags();
    }
    if (!commit_fp_flags(cpu, flags)) return Status::kFault;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(xmm_bytes(cpu, insn.reg)), r);
    return Status::kNext;
  }
};

template <class Op>
using F = FpForm<Fp<Op>>;
// MMX sources: the two doublewords convert like the low lanes of CVTDQ2PS/CVTDQ2PD (the zero
// upper lanes raise nothing); CVTPI2PS keeps the destination's upper quadword.
template <class Op>
using FLow = FpForm<Fp<Op>, 8>;

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic     opcode               operands   attributes semantics
    FORM("CVTPI2PS",  "NP 0F 2A /r", "Vps,Qpi", kSse,  FLow<Cvtdq2ps>),
    FORM("CVTPI2PD",  "66 0F 2A /r", "Vpd,Qpi", kSse2, F<Cvtdq2pd>),
    FORM("CVTSI2SS",  "F3 0F 2A /r", "Vss,Ey",  kSse,  FromInt<Cvtsi2ss>),
    FORM("CVTSI2SD",  "F2 0F 2A /r", "Vsd,Ey",  kSse2, FromInt<Cvtsi2sd>),
    FORM("CVTTPS2PI", "NP 0F 2C /r", "Ppi,Wq",  kSse,  F<Cvttps2dq>),
    FORM("CVTTPD2PI", "66 0F 2C /r", "Ppi,Wpd", kSse2, F<Cvttpd2dq>),
    FORM("CVTTSS2SI", "F3 0F 2C /r", "Gy,Wss",  kSse,  ToInt<Cvttss2si>),
    FORM("CVTTSD2SI", "F2 0F 2C /r", "Gy,Wsd",  kSse2, ToInt<Cvttsd2si>),
    FORM("CVTPS2PI",  "NP 0F 2D /r", "Ppi,Wq",  kSse,  F<Cvtps2dq>),
    FORM("CVTPD2PI",  "66 0F 2D /r", "Ppi,Wpd", kSse2, F<Cvtpd2dq>),
    FORM("CVTSS2SI",  "F3 0F 2D /r", "Gy,Wss",  kSse,  ToInt<Cvtss2si>),
    FORM("CVTSD2SI",  "F2 0F 2D /r", "Gy,Wsd",  kSse2, ToInt<Cvtsd2si>),
    FORM("CVTPS2PD",  "NP 0F 5A /r", "Vpd,Wq",  kSse2, F<Cvtps2pd>),
    FORM("CVTPD2PS",  "66 0F 5A /r", "Vps,Wpd", kSse2, F<Cvtpd2ps>),
    FORM("CVTSS2SD",  "F3 0F 5A /r", "Vsd,Wss", kSse2, F<Cvtss2sd>),
    FORM("CVTSD2SS",  "F2 0F 5A /r", "Vss,Wsd", kSse2, F<Cvtsd2ss>),
    FORM("CVTDQ2PS",  "NP 0F 5B /r", "Vps,Wx",  kSse2, F<Cvtdq2ps>),
    FORM("CVTPS2DQ",  "66 0F 5B /r", "Vx,Wps",  kSse2, F<Cvtps2dq>),
    FORM("CVTTPS2DQ", "F3 0F 5B /r", "Vx,Wps",  kSse2, F<Cvttps2dq>),
    FORM("CVTTPD2DQ", "66 0F E6 /r", "Vx,Wpd",  kSse2, F<Cvttpd2dq>),
    FORM("CVTDQ2PD",  "F3 0F E6 /r", "Vx,Wq",   kSse2, F<Cvtdq2pd>),
    FORM("CVTPD2DQ",  "F2 0F E6 /r", "Vx,Wpd",  kSse2, F<Cvtpd2dq>),
};
// clang-format on

}  // namespace

std::span<const FormSpec> sse_convert_forms() {
  return kForms;
}

}  // namespace cella::soft
