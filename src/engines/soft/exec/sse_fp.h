// SSE floating point on the host's own SSE unit (docs/cpu.md): each operation runs as the same
// host instruction with the guest's rounding control, FTZ and DAZ loaded into the host MXCSR and
// every exception masked, so results are bit-exact with hardware (NaN propagation, rounding,
// denormals). The exception flags the host raised are then merged into the guest MXCSR, or,
// when one of them is unmasked in the guest, turned into #XM (or #UD without CR4.OSXMMEXCPT) with
// the destination unchanged (SDM Vol. 1 11.5).
#pragma once

#include <emmintrin.h>

#include <array>
#include <utility>

#include "engines/soft/exec/sse.h"

namespace cella::soft {

namespace mx = x86::mxcsr;

// The host MXCSR control bits (rounding, FTZ, DAZ, masks) of this thread, read once: Cella never
// changes them, so they are restored after each guest operation without reading MXCSR again.
uint32_t host_mxcsr_control();

// The host MXCSR while an operation runs: the guest's rounding control, FTZ and DAZ, all
// exceptions masked, no flags. Afterwards the host gets its own control bits back (a load only
// when they differ); its sticky flags, which Cella never reads, keep what the operation raised.
// MXCSR is loaded, not read, before the operation because reading it is the slow access (STMXCSR
// costs several times LDMXCSR on current hosts; bench/simd_bench measures the result). The
// loads, the operation and the flag read are all volatile asm, which compilers keep in program
// order.
class HostMxcsr {
 public:
  // (host_mxcsr_control() is read before the load, so its first call sees the host's value.)
  explicit HostMxcsr(uint32_t guest)
      : host_(host_mxcsr_control()),
        run_((guest & (mx::kRounding | mx::kFtz | mx::kDaz)) | mx::kMasks) {
    asm volatile("ldmxcsr %0" : : "m"(run_));
  }
  ~HostMxcsr() {
    if (host_ != run_) [[unlikely]] {
      asm volatile("ldmxcsr %0" : : "m"(host_));
    }
  }
  HostMxcsr(const HostMxcsr&) = delete;
  HostMxcsr& operator=(const HostMxcsr&) = delete;

  // The exception flags raised since construction.
  uint32_t flags() const {
    uint32_t value;
    asm volatile("stmxcsr %0" : "=m"(value));
    return value & mx::kFlags;
  }

 private:
  uint32_t host_;
  uint32_t run_;
};

inline __m128i to_host(const Vec128& v) {
  return _mm_load_si128(reinterpret_cast<const __m128i*>(v.bytes));
}
inline Vec128 from_host(__m128i x) {
  Vec128 v;
  _mm_store_si128(reinterpret_cast<__m128i*>(v.bytes), x);
  return v;
}

// Raises the SIMD floating-point exception for `flags` (at least one unmasked): SDM Vol. 1
// 11.5.3 sets the flags of every pre-computation exception (IE, DE, ZE) detected in any lane, and
// only when none of them is unmasked also the post-computation ones (OE, UE, PE). Then #XM, or
// #UD when CR4.OSXMMEXCPT is clear (SDM Vol. 1 11.5.4, 11.6.2). Returns false.
bool raise_simd_fp(SoftCpu& cpu, uint32_t flags);

// Merges `flags` into the guest MXCSR, or raises the exception when one of them is unmasked.
inline bool commit_fp_flags(SoftCpu& cpu, uint32_t flags) {
  const uint32_t unmasked = flags & ~(cpu.arch.mxcsr >> mx::kMaskShift);
  if ((unmasked & mx::kFlags) == 0) [[likely]] {
    cpu.arch.mxcsr |= flags;
    return true;
  }
  return raise_simd_fp(cpu, flags);
}

// What a lane of an arithmetic operation computes, for the exception rules that masked host
// execution cannot reproduce (below).
enum class FpKind : uint8_t { kAdd, kSub, kMul, kDiv, kNarrow };

// With unmasked overflow or underflow, SDM Vol. 1 4.9.1.4/4.9.1.5 and 11.5.2: the exception is
// reported for a tiny result even when it is exact, and PE is set only if the result rounded
// with unbounded exponent is inexact; a masked host run reports neither. These compute, for one
// lane, whether the exactly rounded result with unbounded exponent equals the exact result.
// `daz` treats denormal inputs as zeros. For kNarrow only y (the double) is used.
bool unbounded_exact_f32(FpKind kind, uint32_t x, uint32_t y, bool daz);
bool unbounded_exact_f64(FpKind kind, uint64_t x, uint64_t y, bool daz);

// Recomputes the flags of an arithmetic operation lane by lane when OE or UE is unmasked:
// each lane runs alone (the others replaced by 1.0, which raises nothing), and a lane that
// overflows or underflows gets OE/UE with PE from the unbounded-exponent rounding.
template <class Op>
uint32_t refine_range_flags(uint32_t mxcsr, __m128i a, __m128i b) {
  using In = typename Op::In;
  using Out = typename Op::Out;
  using Bits = std::conditional_t<sizeof(In) == 4, uint32_t, uint64_t>;
  using OutBits = std::conditional_t<sizeof(Out) == 4, uint32_t, uint64_t>;
  constexpr Bits kOne = static_cast<Bits>(sizeof(In) == 4 ? 0x3f800000 : 0x3ff0000000000000);
  const uint32_t unmasked = ~(mxcsr >> mx::kMaskShift) & mx::kFlags;
  const Vec128 va = from_host(a), vb = from_host(b);
  uint32_t total = 0;
  for (int lane = 0; lane < Op::kLanes; ++lane) {
    Vec128 la, lb;
    for (size_t i = 0; i < Vec128::lanes<Bits>(); ++i) {
      la.set<Bits>(i, i == static_cast<size_t>(lane) ? va.get<Bits>(i) : kOne);
      lb.set<Bits>(i, i == static_cast<size_t>(lane) ? vb.get<Bits>(i) : kOne);
    }
    if constexpr (Op::kLanes == 1) la = va, lb = vb;  // scalar: upper lanes are not computed
    __m128i r = to_host(la);
    uint32_t flags;
    {
      HostMxcsr host(mxcsr);
      Op::run(r, to_host(lb));
      flags = host.flags();
    }
    const OutBits out = from_host(r).get<OutBits>(static_cast<size_t>(lane));
    constexpr int kFraction = sizeof(Out) == 4 ? 23 : 52;
    const OutBits exponent = (out >> kFraction) & (sizeof(Out) == 4 ? 0xff : 0x7ff);
    const bool denormal_result = exponent == 0 && (out << (sizeof(Out) * 8 - kFraction)) != 0;
    const bool overflow = (unmasked & mx::kOe) && (flags & mx::kOe);
    const bool underflow = (unmasked & mx::kUe) && ((flags & mx::kUe) || denormal_result);
    if (overflow || underflow) {
      const bool daz = mxcsr & mx::kDaz;
      const FpKind kind = Op::kind(lane);
      const bool exact =
          sizeof(In) == 4 ? unbounded_exact_f32(kind, static_cast<uint32_t>(la.get<Bits>(lane)),
                                                static_cast<uint32_t>(lb.get<Bits>(lane)), daz)
                          : unbounded_exact_f64(kind, la.get<Bits>(lane), lb.get<Bits>(lane), daz);
      flags = (flags & (mx::kIe | mx::kDe | mx::kZe)) | (overflow ? mx::kOe : mx::kUe) |
              (exact ? 0 : mx::kPe);
    }
    total |= flags;
  }
  return total;
}

// Runs the host operation Op (dst = op(dst, src) on XMM registers) with the guest's MXCSR
// `mxcsr`: `r` holds dst on entry and the result on return; returns the exception flags the
// guest sees (refined lane by lane when overflow or underflow is unmasked). Op::run is the host
// instruction; Op::kRange (optional) says the operation can overflow or underflow, and then
// Op::In, Op::Out, Op::kLanes and Op::kind(lane) describe its lanes.
template <class Op>
uint32_t run_on_host(uint32_t mxcsr, Vec128& r, const Vec128& b) {
  const Vec128 a = r;
  __m128i x = to_host(r);
  uint32_t flags;
  {
    HostMxcsr host(mxcsr);
    Op::run(x, to_host(b));
    flags = host.flags();
  }
  if constexpr (requires { Op::kRange; }) {
    constexpr uint32_t kRangeMasks = (mx::kOe | mx::kUe) << mx::kMaskShift;
    if ((mxcsr & kRangeMasks) != kRangeMasks) [[unlikely]]
      flags = refine_range_flags<Op>(mxcsr, to_host(a), to_host(b));
  }
  r = from_host(x);
  return flags;
}

// run_on_host for the guest: merges the flags, or raises the exception with `a` unchanged
// (returns false).
template <class Op>
bool run_fp(SoftCpu& cpu, Vec128& a, const Vec128& b) {
  Vec128 r = a;
  if (!commit_fp_flags(cpu, run_on_host<Op>(cpu.arch.mxcsr, r, b))) return false;
  a = r;
  return true;
}

// A host SSE instruction "mnemonic src, dst" as an Op of run_fp.
#define CELLA_HOST_SSE(Name, mnemonic)                     \
  struct Name {                                            \
    static void run(__m128i& a, __m128i b) {               \
      asm volatile(mnemonic " %1, %0" : "+x"(a) : "x"(b)); \
    }                                                      \
  }

// The same with an 8-bit immediate, "mnemonic $imm, src, dst".
#define CELLA_HOST_SSE_IMM(Name, mnemonic)                                \
  template <int kImm>                                                     \
  struct Name {                                                           \
    static void run(__m128i& a, __m128i b) {                              \
      asm volatile(mnemonic " %2, %1, %0" : "+x"(a) : "x"(b), "i"(kImm)); \
    }                                                                     \
  }

// Host features the few SSE3/SSE4.1 floating-point forms that run on the host need; without
// them the soft engine does not advertise the feature and the forms raise #UD.
bool host_has_sse3();
bool host_has_sse41();

// An operation that can overflow or underflow (see run_fp): the host instruction Host with its
// lanes described: In/Out lane types, kLaneCount operations, lane kinds alternating kEven, kOdd.
template <class Host, class InLane, class OutLane, int kLaneCount, FpKind kEven,
          FpKind kOdd = kEven>
struct Ranged : Host {
  static constexpr bool kRange = true;
  using In = InLane;
  using Out = OutLane;
  static constexpr int kLanes = kLaneCount;
  static FpKind kind(int lane) { return (lane & 1) ? kOdd : kEven; }
};

// Executors of FpForm: how the host operation is applied to (dst, src).
// Fp<Op>: dst = Op(dst, src).
template <class Op>
struct Fp {
  static bool execute(SoftCpu& cpu, Vec128& a, const Vec128& b, uint8_t) {
    return run_fp<Op>(cpu, a, b);
  }
};

// FpImm<Op, kCount>: dst = Op<imm8 % kCount>(dst, src), the immediate being part of the host
// instruction (the legacy forms ignore the immediate's other bits: SDM Vol. 2A CMPPS, ROUNDPS).
template <template <int> class Op, int kCount>
struct FpImm {
  using Fn = bool (*)(SoftCpu&, Vec128&, const Vec128&);
  template <size_t... kI>
  static constexpr std::array<Fn, sizeof...(kI)> table(std::index_sequence<kI...>) {
    return {&run_fp<Op<static_cast<int>(kI)>>...};
  }
  static bool execute(SoftCpu& cpu, Vec128& a, const Vec128& b, uint8_t imm) {
    static constexpr std::array<Fn, kCount> kTable = table(std::make_index_sequence<kCount>());
    return kTable[imm % kCount](cpu, a, b);
  }
};

// Semantics of an SSE floating-point form "dst, src[, imm8]" on XMM registers, where dst may also
// be an MMX register (CVTPS2PI & co., which take the low 8 bytes of the result). kResultBytes < 16
// keeps the destination's upper bytes (CVTPI2PS). kHost is the host feature the operation needs.
enum class HostSse : uint8_t { kBaseline, kSse3, kSse41 };
template <class Executor, size_t kResultBytes = 16, HostSse kHost = HostSse::kBaseline>
struct FpForm : Simd<FpForm<Executor, kResultBytes, kHost>> {
  template <class T, bool kMem, OperandList kOps>
  static Status run(SoftCpu& cpu, const Insn& insn) {
    using Dst = VArg<kOps, 0, kMem>;
    using Src = VArg<kOps, 1, kMem>;
    if constexpr (kHost == HostSse::kSse3) {
      if (!host_has_sse3()) return cpu.raise(x86::Vector::kInvalidOpcode);
    } else if constexpr (kHost == HostSse::kSse41) {
      if (!host_has_sse41()) return cpu.raise(x86::Vector::kInvalidOpcode);
    }
    Vec128 b;
    if (!Src::template read<16>(cpu, insn, b)) return Status::kFault;
    Vec128 r;
    if constexpr (!Dst::kMmx) std::memcpy(r.bytes, Dst::reg(cpu, insn), 16);
    if (!Executor::execute(cpu, r, b, static_cast<uint8_t>(insn.imm))) return Status::kFault;
    if constexpr (Dst::kMmx)
      Dst::write(cpu, insn, r.resized<8>());
    else
      Dst::write(cpu, insn, r.resized<kResultBytes>());
    return Status::kNext;
  }
};

}  // namespace cella::soft
