// Data-movement semantics shared by the SSE forms (sse_move.cc) and their MMX forms (mmx.cc).
#pragma once

#include <emmintrin.h>

#include "engines/soft/exec/sse.h"

namespace cella::soft {

// dst = src, both of the same width (a register operand narrower than its register merges into
// its low bytes: MOVSS xmm1, xmm2; MOVLPS xmm, m64; MOVDQ2Q).
template <Align kAlign = Align::kVector>
struct Copy : Simd<Copy<kAlign>> {
  template <class T, bool kMem, OperandList kOps>
  static Status run(SoftCpu& cpu, const Insn& insn) {
    using Dst = VArg<kOps, 0, kMem>;
    using Src = VArg<kOps, 1, kMem>;
    static_assert(Dst::kBytes == Src::kBytes);
    Vec<Src::kBytes> value;
    if (!Src::template read<Src::kBytes, kAlign>(cpu, insn, value)) return Status::kFault;
    return Dst::template write<Src::kBytes, kAlign>(cpu, insn, value) ? Status::kNext
                                                                      : Status::kFault;
  }
};

// MOVSS/MOVSD loads: from memory the value is zero-extended to 128 bits, from a register it
// replaces only the low lane (SDM Vol. 2B MOVSS).
struct MoveScalar : Simd<MoveScalar> {
  template <class T, bool kMem, OperandList kOps>
  static Status run(SoftCpu& cpu, const Insn& insn) {
    using Dst = VArg<kOps, 0, kMem>;
    using Src = VArg<kOps, 1, kMem>;
    constexpr size_t N = Src::kInMemory ? 16 : Src::kBytes;
    Vec<N> value;
    if (!Src::template read<N>(cpu, insn, value)) return Status::kFault;
    Dst::write(cpu, insn, value);
    return Status::kNext;
  }
};

// MOVQ xmm, xmm/m64 & co.: a register destination receives the source zero-extended to its full
// width; a memory destination the source's bytes.
struct ZeroExtend : Simd<ZeroExtend> {
  template <class T, bool kMem, OperandList kOps>
  static Status run(SoftCpu& cpu, const Insn& insn) {
    using Dst = VArg<kOps, 0, kMem>;
    using Src = VArg<kOps, 1, kMem>;
    constexpr size_t N = Dst::kInMemory ? Src::kBytes : Dst::kRegisterBytes;
    Vec<N> value;
    if (!Src::template read<N>(cpu, insn, value)) return Status::kFault;
    return Dst::write(cpu, insn, value) ? Status::kNext : Status::kFault;
  }
};

// MOVD/MOVQ xmm or mm, r/m32 or r/m64: zero-extended into the register.
struct FromGpr : Simd<FromGpr> {
  template <class T, bool kMem, OperandList kOps>
  static Status run(SoftCpu& cpu, const Insn& insn) {
    using Dst = VArg<kOps, 0, kMem>;
    T value{};
    if (!Arg<kOps, 1, kMem>::template read<T>(cpu, insn, value)) return Status::kFault;
    Vec<Dst::kRegisterBytes> v;
    v.template set<T>(0, value);
    Dst::write(cpu, insn, v);
    return Status::kNext;
  }
};

// MOVD/MOVQ r/m32 or r/m64, xmm or mm: the low doubleword or quadword.
struct ToGpr : Simd<ToGpr> {
  template <class T, bool kMem, OperandList kOps>
  static Status run(SoftCpu& cpu, const Insn& insn) {
    Vec<sizeof(T)> v;
    VArg<kOps, 1, kMem>::template read<sizeof(T)>(cpu, insn, v);
    return Arg<kOps, 0, kMem>::template write<T>(cpu, insn, v.template get<T>(0)) ? Status::kNext
                                                                                  : Status::kFault;
  }
};

// MOVMSKPS/MOVMSKPD/PMOVMSKB: the sign bit of each lane of type L, zero-extended into a
// general-purpose register.
template <class L>
struct SignMask : Simd<SignMask<L>> {
  template <class T, bool kMem, OperandList kOps>
  static Status run(SoftCpu& cpu, const Insn& insn) {
    Vec128 v;
    VArg<kOps, 1, kMem>::template read<16>(cpu, insn, v);
    const __m128i x = _mm_load_si128(reinterpret_cast<const __m128i*>(v.bytes));
    int mask;
    if constexpr (sizeof(L) == 1)
      mask = _mm_movemask_epi8(x);
    else if constexpr (sizeof(L) == 4)
      mask = _mm_movemask_ps(_mm_castsi128_ps(x));
    else
      mask = _mm_movemask_pd(_mm_castsi128_pd(x));
    cpu.set_reg<uint32_t>(insn.reg, static_cast<uint32_t>(mask));
    return Status::kNext;
  }
};

// MASKMOVDQU/MASKMOVQ: the bytes of the first operand whose mask byte (second operand) has its
// top bit set are stored at DS:rDI (segment override allowed). The whole 16 (8) bytes are checked
// for writing first, whatever the mask, as processors do (SDM Vol. 2B MASKMOVDQU leaves the
// zero-mask case implementation-specific; tests/diff/sse_fault_test checks the host); then only
// the selected bytes are written.
struct MaskedStore : Simd<MaskedStore> {
  template <class T, bool kMem, OperandList kOps>
  static Status run(SoftCpu& cpu, const Insn& insn) {
    using Data = VArg<kOps, 0, kMem>;
    using Mask = VArg<kOps, 1, kMem>;
    constexpr size_t N = Data::kRegisterBytes;
    Vec<N> data, mask;
    Data::template read<N>(cpu, insn, data);
    Mask::template read<N>(cpu, insn, mask);
    uint64_t offset = cpu.gpr[7];
    if (insn.prefixes & prefix::kAddr32) offset = static_cast<uint32_t>(offset);
    const uint64_t linear = offset + cpu.segment_base[insn.segment];
    // MASKMOVQ enters MMX state even when the store faults (the host does).
    if constexpr (Data::kMmx) x87::enter_mmx(cpu.arch.x87);
    // Page by page; a fault on the second page reports its first byte (SDM Vol. 3A 4.7: CR2).
    const uint64_t last = linear + N - 1;
    PageTranslation page;
    if (!cpu.translate(linear, Access::kWrite, page) ||
        (((last ^ linear) & ~kPageOffsetMask) != 0 &&
         !cpu.translate(last & ~kPageOffsetMask, Access::kWrite, page))) {
      return Status::kFault;
    }
    for (size_t i = 0; i < N; ++i) {
      if ((mask.bytes[i] & 0x80) && !write_memory(cpu, linear + i, data.bytes[i])) {
        return Status::kFault;  // not reached: the pages were checked
      }
    }
    return Status::kNext;
  }
};

}  // namespace cella::soft
