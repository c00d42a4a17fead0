// Operand access and common rules of the SSE and MMX semantics (exec/sse_*.cc, ssse3.cc,
// sse41*.cc, mmx.cc): 64- and 128-bit vector values, XMM and MMX register operands, the 16-byte
// alignment of legacy SSE memory operands, the CR0/CR4 gates and the x87-to-MMX transition.
#pragma once

#include <cstring>

#include "engines/soft/exec/common.h"
#include "engines/soft/exec/x87.h"

namespace cella::soft {

// The lane types of the SIMD form tables (PADDB's u8, PMADDWD's i16...).
namespace lane {
using u8 = uint8_t;
using u16 = uint16_t;
using u32 = uint32_t;
using u64 = uint64_t;
using i8 = int8_t;
using i16 = int16_t;
using i32 = int32_t;
}  // namespace lane

// A vector value of N bytes (an MMX register holds 8, an XMM register 16), little-endian lanes.
template <size_t N>
struct Vec {
  alignas(N < 16 ? N : 16) uint8_t bytes[N] = {};

  template <class L>
  static constexpr size_t lanes() {
    return N / sizeof(L);
  }
  template <class L>
  L get(size_t i) const {
    L value;
    std::memcpy(&value, bytes + i * sizeof(L), sizeof(L));
    return value;
  }
  template <class L>
  void set(size_t i, L value) {
    std::memcpy(bytes + i * sizeof(L), &value, sizeof(L));
  }
  // The low M bytes, or the value zero-extended to M bytes.
  template <size_t M>
  Vec<M> resized() const {
    Vec<M> out;
    std::memcpy(out.bytes, bytes, M < N ? M : N);
    return out;
  }
};
using Vec64 = Vec<8>;
using Vec128 = Vec<16>;

// r[i] = f(a[i], b[i]) over the lanes of type L.
template <class L, size_t N, class F>
inline Vec<N> lanewise(const Vec<N>& a, const Vec<N>& b, F f) {
  Vec<N> r;
  for (size_t i = 0; i < Vec<N>::template lanes<L>(); ++i) {
    r.template set<L>(i, f(a.template get<L>(i), b.template get<L>(i)));
  }
  return r;
}

// Bytes of a vector operand of the given size code (SDM Vol. 2D A.2.2).
constexpr size_t vector_bytes(OperandSize size) {
  if (const int bytes = fixed_size_bytes(size)) return static_cast<size_t>(bytes);
  switch (size) {
    case OperandSize::kSs:
      return 4;
    case OperandSize::kSd:
    case OperandSize::kPi:
      return 8;
    case OperandSize::kDq:
    case OperandSize::kX:
    case OperandSize::kPs:
    case OperandSize::kPd:
      return 16;
    default:
      return 0;
  }
}

constexpr bool is_xmm_kind(OperandKind kind) {
  return kind == OperandKind::kV || kind == OperandKind::kW || kind == OperandKind::kU ||
         kind == OperandKind::kH || kind == OperandKind::kXmm0;
}
constexpr bool is_mmx_kind(OperandKind kind) {
  return kind == OperandKind::kP || kind == OperandKind::kQ || kind == OperandKind::kN;
}

// SDM Vol. 2A 2.5 (exception types 1, 2 and 4 of Table 2-18 onwards): a legacy SSE 16-byte
// memory operand must be 16-byte aligned (#GP(0)), except for the forms that are explicitly
// unaligned (MOVUPS, MOVUPD, MOVDQU, LDDQU). Smaller operands are never checked.
enum class Align : uint8_t { kVector, kNone };

inline uint8_t* xmm_bytes(SoftCpu& cpu, unsigned index) {
  return reinterpret_cast<uint8_t*>(&cpu.arch.xmm[index]);
}

inline bool misaligned(SoftCpu& cpu) {
  cpu.raise(x86::Vector::kGeneralProtection, 0);
  return false;
}

// A vector operand of a form: an XMM register (V, U, W, XMM0), an MMX register (P, N, Q) or a
// memory operand (W, Q, M) of vector_bytes(size) bytes.
template <OperandSpec kSpec, bool kMem>
struct VecArg {
  static constexpr OperandKind kKind = kSpec.kind;
  static constexpr size_t kBytes = vector_bytes(kSpec.size);
  static constexpr bool kInMemory = kMem && may_be_memory(kKind);
  static constexpr bool kMmx = is_mmx_kind(kKind) && !kInMemory;
  // The width of the register the operand names (or would name, for memory).
  static constexpr size_t kRegisterBytes = is_mmx_kind(kKind) ? 8 : 16;
  static_assert(kBytes != 0, "operand size has no vector width");

  // The XMM register the operand names.
  static uint8_t* reg(SoftCpu& cpu, const Insn& insn) {
    if constexpr (kKind == OperandKind::kV) {
      return xmm_bytes(cpu, insn.reg);
    } else if constexpr (kKind == OperandKind::kW || kKind == OperandKind::kU) {
      return xmm_bytes(cpu, insn.rm);
    } else {
      static_assert(kKind == OperandKind::kXmm0, "not an XMM register");
      return xmm_bytes(cpu, 0);
    }
  }
  // The MMX register the operand names (x87 physical register, SDM Vol. 1 9.5).
  static unsigned mmx_index(const Insn& insn) {
    return kKind == OperandKind::kP ? insn.reg : insn.rm;
  }

  static uint64_t address(const SoftCpu& cpu, const Insn& insn) {
    return effective_address(cpu, insn);
  }

  // Reads the operand (a register's low kBytes), zero-extended to N bytes.
  template <size_t N = kBytes, Align kAlign = Align::kVector>
  static bool read(SoftCpu& cpu, const Insn& insn, Vec<N>& out) {
    static_assert(N >= kBytes);
    if constexpr (kInMemory) {
      const uint64_t linear = address(cpu, insn);
      if constexpr (kAlign == Align::kVector && kBytes == 16) {
        if (linear & 15) [[unlikely]]
          return misaligned(cpu);
      }
      Vec<kBytes> value;
      if (!read_memory(cpu, linear, value)) return false;
      out = value.template resized<N>();
    } else if constexpr (is_mmx_kind(kKind)) {
      const uint64_t value = x87::mmx(cpu.arch.x87, mmx_index(insn));
      out = Vec<N>{};
      std::memcpy(out.bytes, &value, kBytes);
    } else {
      out = Vec<N>{};
      std::memcpy(out.bytes, reg(cpu, insn), kBytes);
    }
    return true;
  }

  // Writes N bytes: the low N bytes of an XMM register (the rest unchanged), a whole MMX register
  // (which sets bits 79:64 of the x87 register, SDM Vol. 1 9.5.1), or a memory operand of
  // exactly kBytes.
  template <size_t N, Align kAlign = Align::kVector>
  static bool write(SoftCpu& cpu, const Insn& insn, const Vec<N>& value) {
    if constexpr (kInMemory) {
      static_assert(N == kBytes, "memory write of the wrong width");
      const uint64_t linear = address(cpu, insn);
      if constexpr (kAlign == Align::kVector && kBytes == 16) {
        if (linear & 15) [[unlikely]]
          return misaligned(cpu);
      }
      return write_memory(cpu, linear, value);
    } else if constexpr (is_mmx_kind(kKind)) {
      static_assert(N == 8, "MMX registers are written whole");
      x87::set_mmx(cpu.arch.x87, mmx_index(insn), value.template get<uint64_t>(0));
      return true;
    } else {
      static_assert(N <= kRegisterBytes, "register write wider than the register");
      std::memcpy(reg(cpu, insn), value.bytes, N);
      return true;
    }
  }
};

template <OperandList kOps, size_t kIndex, bool kMem>
using VArg = VecArg<kOps[kIndex], kMem>;

// ---- Gates (SDM Vol. 2A 2.5 exception tables; Vol. 3A 2.5 CR0.EM/TS, CR4.OSFXSR) ----

// Raises #UD (CR0.EM set or CR4.OSFXSR clear) or #NM (CR0.TS set). Returns false.
bool raise_sse_unavailable(SoftCpu& cpu);

// SSE instructions need CR0.EM = 0, CR0.TS = 0 and CR4.OSFXSR = 1.
inline bool sse_enabled(SoftCpu& cpu) {
  const uint64_t blocked =
      (cpu.arch.cr0 & (x86::cr0::kEm | x86::cr0::kTs)) | (~cpu.arch.cr4 & x86::cr4::kOsfxsr);
  if (blocked == 0) [[likely]]
    return true;
  return raise_sse_unavailable(cpu);
}

// MMX instructions: #UD with CR0.EM, then the x87 checks, #NM with CR0.TS and #MF with a
// pending unmasked x87 exception (SDM Vol. 2, the MMX forms' exceptions, e.g. PADDB "64-Bit Mode
// Exceptions"; Vol. 3A Table 2-2).
inline bool mmx_enabled(SoftCpu& cpu) {
  if (cpu.arch.cr0 & x86::cr0::kEm) [[unlikely]] {
    cpu.raise(x86::Vector::kInvalidOpcode);
    return false;
  }
  return x87::begin(cpu);
}

// A SIMD floating-point exception (#XM, or #UD without CR4.OSXMMEXCPT) raised while executing:
// unlike faults detected before execution (gates, memory), it leaves the x87-to-MMX transition
// done, as processors do (CVTPI2PS mm/CVTPS2PI; tests/diff/sse_fp_test).
inline bool simd_fp_fault(const SoftCpu& cpu) {
  return cpu.fault.vector == x86::Vector::kSimdFloatingPoint ||
         (cpu.fault.vector == x86::Vector::kInvalidOpcode &&
          !(cpu.arch.cr4 & x86::cr4::kOsxmmexcpt));
}

template <OperandList kOps>
constexpr bool uses_xmm() {
  for (size_t i = 0; i < kOps.count; ++i) {
    if (is_xmm_kind(kOps[i].kind)) return true;
  }
  return false;
}
// An MMX register is an operand in this instantiation (Q with memory is not one: SDM Vol. 2A
// CVTPI2PS, "xmm, m64" does not transition to MMX state).
template <OperandList kOps, bool kMem>
constexpr bool uses_mmx() {
  for (size_t i = 0; i < kOps.count; ++i) {
    const OperandKind k = kOps[i].kind;
    if (k == OperandKind::kP || k == OperandKind::kN || (k == OperandKind::kQ && !kMem))
      return true;
  }
  return false;
}

// Base of the SSE/MMX semantics: checks the gates of the units the operands use, runs
// Derived::run, and after success (or a SIMD floating-point exception) performs the x87-to-MMX
// transition (x87::enter_mmx: TOP 0, every register in use) when an MMX register was an operand.
// Derived::kSse (optional) forces the SSE gate for forms without XMM operands.
template <class Derived>
struct Simd {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    constexpr bool kSseGate = uses_xmm<kOps>() || requires {
      Derived::kSse;
    };
    constexpr bool kMmx = uses_mmx<kOps, kMem>();
    if constexpr (kSseGate) {
      if (!sse_enabled(cpu)) [[unlikely]]
        return Status::kFault;
    }
    if constexpr (kMmx) {
      if (!mmx_enabled(cpu)) [[unlikely]]
        return Status::kFault;
    }
    const Status status = Derived::template run<T, kMem, kOps>(cpu, insn);
    if constexpr (kMmx) {
      if (status == Status::kNext || simd_fp_fault(cpu)) x87::enter_mmx(cpu.arch.x87);
    }
    return status;
  }
};

// dst = Op::apply(dst, src, imm8) on whole vectors of the destination register's width; the
// source is read at its own width and zero-extended (e.g. MMX PUNPCKLBW mm, m32).
template <class Op, Align kAlign = Align::kVector>
struct Packed : Simd<Packed<Op, kAlign>> {
  template <class T, bool kMem, OperandList kOps>
  static Status run(SoftCpu& cpu, const Insn& insn) {
    using Dst = VArg<kOps, 0, kMem>;
    using Src = VArg<kOps, 1, kMem>;
    constexpr size_t N = Dst::kRegisterBytes;
    Vec<N> a, b;
    if (!Src::template read<N, kAlign>(cpu, insn, b)) return Status::kFault;
    Dst::template read<N>(cpu, insn, a);
    Dst::write(cpu, insn, Op::apply(a, b, static_cast<uint8_t>(insn.imm)));
    return Status::kNext;
  }
};

// An Op of Packed built from a lane function f(a, b).
template <class L, class F>
struct Lanes {
  template <size_t N>
  static Vec<N> apply(const Vec<N>& a, const Vec<N>& b, uint8_t) {
    return lanewise<L>(a, b, F{});
  }
};

}  // namespace cella::soft
