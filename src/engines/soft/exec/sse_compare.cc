// SSE/SSE2 floating-point comparisons: CMPPS CMPPD CMPSS CMPSD (predicates 0-7) and COMISS
// UCOMISS COMISD UCOMISD (EFLAGS) (SDM Vol. 2A, each instruction's page), run on the host's SSE
// unit (sse_fp.h), which decides QNaN/SNaN signalling and DAZ exactly as hardware does.
#include "engines/soft/exec/sse_fp.h"

namespace cella::soft {

namespace {

using namespace attr;
namespace rf = x86::rflags;

// The legacy encodings have 8 predicates (imm8 bits 2:0; SDM Vol. 2A CMPPS, Table 3-1).
CELLA_HOST_SSE_IMM(CmpPs, "cmpps");
CELLA_HOST_SSE_IMM(CmpPd, "cmppd");
CELLA_HOST_SSE_IMM(CmpSs, "cmpss");
CELLA_HOST_SSE_IMM(CmpSd, "cmpsd");

// COMISS & co.: ZF, PF, CF from the comparison (unordered 111, greater 000, less 001, equal
// 100); OF, SF and AF cleared (SDM Vol. 2A COMISS). COMI* signal invalid on QNaNs too, UCOMI*
// only on SNaNs: the host instruction decides.
#define CELLA_HOST_COMPARE(Name, mnemonic)                                                       \
  struct Name {                                                                                  \
    static uint64_t run(__m128i a, __m128i b) {                                                  \
      bool zf, pf, cf;                                                                           \
      asm volatile(mnemonic " %4, %3" : "=@ccz"(zf), "=@ccp"(pf), "=@ccc"(cf) : "x"(a), "x"(b)); \
      return (zf ? rf::kZf : 0) | (pf ? rf::kPf : 0) | (cf ? rf::kCf : 0);                       \
    }                                                                                            \
  }
CELLA_HOST_COMPARE(Comiss, "comiss");
CELLA_HOST_COMPARE(Ucomiss, "ucomiss");
CELLA_HOST_COMPARE(Comisd, "comisd");
CELLA_HOST_COMPARE(Ucomisd, "ucomisd");

template <class Op>
struct CompareFlags : Simd<CompareFlags<Op>> {
  template <class T, bool kMem, OperandList kOps>
  static Status run(SoftCpu& cpu, const Insn& insn) {
    Vec128 a, b;
    if (!VArg<kOps, 1, kMem>::template read<16>(cpu, insn, b)) return Status::kFault;
    VArg<kOps, 0, kMem>::template read<16>(cpu, insn, a);
    uint64_t status;
    uint32_t flags;
    {
      HostMxcsr host(cpu.arch.mxcsr);
      status = Op::run(to_host(a), to_host(b));
      flags = host.flags();
    }
    if (!commit_fp_flags(cpu, flags)) return Status::kFault;
    cpu.flags.set_status(status);
    return Status::kNext;
  }
};

template <template <int> class Op>
using Cmp = FpForm<FpImm<Op, 8>>;

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic   opcode         operands        attributes semantics
    FORM("CMPPS",   "NP 0F C2 /r", "Vps,Wps,Ib", kSse,  Cmp<CmpPs>),
    FORM("CMPPD",   "66 0F C2 /r", "Vpd,Wpd,Ib", kSse2, Cmp<CmpPd>),
    FORM("CMPSS",   "F3 0F C2 /r", "Vss,Wss,Ib", kSse,  Cmp<CmpSs>),
    FORM("CMPSD",   "F2 0F C2 /r", "Vsd,Wsd,Ib", kSse2, Cmp<CmpSd>),
    FORM("UCOMISS", "NP 0F 2E /r", "Vss,Wss",    kSse,  CompareFlags<Ucomiss>),
    FORM("UCOMISD", "66 0F 2E /r", "Vsd,Wsd",    kSse2, CompareFlags<Ucomisd>),
    FORM("COMISS",  "NP 0F 2F /r", "Vss,Wss",    kSse,  CompareFlags<Comiss>),
    FORM("COMISD",  "66 0F 2F /r", "Vsd,Wsd",    kSse2, CompareFlags<Comisd>),
};
// clang-format on

}  // namespace

std::span<const FormSpec> sse_compare_forms() {
  return kForms;
}

}  // namespace cella::soft
