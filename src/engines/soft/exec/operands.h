// Operand access for instruction semantics. Each operand of a form is a compile-time
// OperandSpec (decoder/operands.h), so Operand<spec, kMem> reads and writes compile to the
// register, memory or immediate access the encoding names, with no run-time dispatch.
#pragma once

#include <cstdint>

#include "engines/soft/cpu.h"
#include "engines/soft/decoder/operands.h"
#include "engines/soft/memory.h"

namespace cella::soft {

// SDM Vol. 2A 2.2.1 / Vol. 1 3.7.5: the effective address (offset in the segment):
// base + index * scale + displacement (RIP-relative: next RIP + displacement), truncated to
// the address size. LEA stores exactly this.
inline uint64_t effective_offset(const SoftCpu& cpu, const Insn& insn) {
  uint64_t ea;
  if (insn.base == kRipRelative) [[unlikely]] {
    ea = cpu.rip + insn.length + static_cast<uint64_t>(static_cast<int64_t>(insn.disp));
  } else {
    ea = cpu.gpr[insn.base] + (cpu.gpr[insn.index] << insn.scale) +
         static_cast<uint64_t>(static_cast<int64_t>(insn.disp));
  }
  if (insn.prefixes & prefix::kAddr32) [[unlikely]]
    ea = static_cast<uint32_t>(ea);
  return ea;
}

// The linear address: the effective address plus the segment base (SDM Vol. 3A 3.4).
inline uint64_t effective_address(const SoftCpu& cpu, const Insn& insn) {
  return effective_offset(cpu, insn) + cpu.segment_base[insn.segment];
}

// The linear address of a memory operand, including moffs forms.
template <OperandKind kKind>
inline uint64_t operand_address(const SoftCpu& cpu, const Insn& insn) {
  if constexpr (kKind == OperandKind::kO) {
    return static_cast<uint64_t>(insn.imm) + cpu.segment_base[insn.segment];
  } else {
    return effective_address(cpu, insn);
  }
}

// The failure path of a memory operand access: through SS, #GP becomes #SS.
inline bool segment_fault(SoftCpu& cpu, const Insn& insn, uint64_t linear) {
  if (insn.segment == static_cast<uint8_t>(x86::Segment::kSs)) stack_segment_fault(cpu, linear);
  return false;
}

template <OperandSpec kSpec, bool kMem>
struct Operand {
  static constexpr OperandKind kKind = kSpec.kind;
  // This operand is in memory in this instantiation.
  static constexpr bool kInMemory = (kMem && may_be_memory(kKind)) || kKind == OperandKind::kO;

  template <class T>
  static bool read(SoftCpu& cpu, const Insn& insn, T& out) {
    if constexpr (kInMemory) {
      const uint64_t address = operand_address<kKind>(cpu, insn);
      return read_memory(cpu, address, out) || segment_fault(cpu, insn, address);
    } else if constexpr (kKind == OperandKind::kE || kKind == OperandKind::kR ||
                         kKind == OperandKind::kZ) {
      out = cpu.reg<T>(insn.rm);
    } else if constexpr (kKind == OperandKind::kG) {
      out = cpu.reg<T>(insn.reg);
    } else if constexpr (kKind == OperandKind::kB) {
      out = cpu.reg<T>(insn.vvvv);
    } else if constexpr (kKind == OperandKind::kAcc) {
      out = cpu.reg<T>(0);
    } else if constexpr (kKind == OperandKind::kI || kKind == OperandKind::kJ) {
      out = static_cast<T>(insn.imm);
    } else if constexpr (kKind == OperandKind::kCl) {
      out = static_cast<T>(cpu.gpr[1] & 0xff);
    } else if constexpr (kKind == OperandKind::kDx) {
      out = static_cast<T>(cpu.gpr[2] & 0xffff);
    } else if constexpr (kKind == OperandKind::kOne) {
      out = 1;
    } else {
      static_assert(kKind == OperandKind::kNone, "operand kind has no integer read");
    }
    return true;
  }

  template <class T>
  static bool write(SoftCpu& cpu, const Insn& insn, T value) {
    if constexpr (kInMemory) {
      const uint64_t address = operand_address<kKind>(cpu, insn);
      return write_memory(cpu, address, value) || segment_fault(cpu, insn, address);
    } else if constexpr (kKind == OperandKind::kE || kKind == OperandKind::kR ||
                         kKind == OperandKind::kZ) {
      cpu.set_reg<T>(insn.rm, value);
    } else if constexpr (kKind == OperandKind::kG) {
      cpu.set_reg<T>(insn.reg, value);
    } else if constexpr (kKind == OperandKind::kB) {
      cpu.set_reg<T>(insn.vvvv, value);
    } else if constexpr (kKind == OperandKind::kAcc) {
      cpu.set_reg<T>(0, value);
    } else {
      static_assert(kKind == OperandKind::kNone, "operand kind is not writable");
    }
    return true;
  }

  // Read-modify-write of a destination: value = f(value). LOCK makes memory updates atomic.
  template <class T, class F>
  static bool update(SoftCpu& cpu, const Insn& insn, F&& f) {
    if constexpr (kInMemory) {
      const uint64_t address = operand_address<kKind>(cpu, insn);
      return modify_memory<T>(cpu, address, (insn.prefixes & prefix::kLock) != 0, f) ||
             segment_fault(cpu, insn, address);
    } else {
      T value{};
      read<T>(cpu, insn, value);
      return write<T>(cpu, insn, f(value));
    }
  }
};

// The i-th operand of a form's operand list.
template <OperandList kOps, size_t kIndex, bool kMem>
using Arg = Operand<kOps[kIndex], kMem>;

}  // namespace cella::soft
