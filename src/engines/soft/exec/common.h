// Helpers shared by the semantics groups: control transfer, the stack, form-table groups.
#pragma once

#include <cstdint>
#include <span>

#include "engines/soft/cpu.h"
#include "engines/soft/decoder/form.h"
#include "engines/soft/exec/operands.h"
#include "engines/soft/memory.h"

namespace cella::soft {

inline uint64_t next_rip(const SoftCpu& cpu, const Insn& insn) {
  return cpu.rip + insn.length;
}

// Transfers control to `target` (SDM Vol. 1 6.3.7: a non-canonical target raises #GP(0) at
// the branch, before RIP changes).
inline Status branch_to(SoftCpu& cpu, uint64_t target) {
  if (!is_canonical(target)) [[unlikely]]
    return cpu.raise(x86::Vector::kGeneralProtection, 0);
  cpu.rip = target;
  return Status::kBranch;
}

constexpr uint8_t kRspOffset = 4 * 8;  // RSP as an operand coding

// SDM Vol. 1 6.2.5: in 64-bit mode the stack pointer is 64 bits wide; pushes and pops move it
// by the operand size (8, or 2 with 66). RSP changes only if the memory access succeeds.
template <class T>
inline bool push(SoftCpu& cpu, T value) {
  const uint64_t rsp = cpu.gpr[4] - sizeof(T);
  const uint64_t linear = rsp + cpu.segment_base[static_cast<int>(x86::Segment::kSs)];
  if (!write_memory(cpu, linear, value)) return stack_segment_fault(cpu, linear);
  cpu.gpr[4] = rsp;
  return true;
}

template <class T>
inline bool pop(SoftCpu& cpu, T& value) {
  const uint64_t linear = cpu.gpr[4] + cpu.segment_base[static_cast<int>(x86::Segment::kSs)];
  if (!read_memory(cpu, linear, value)) return stack_segment_fault(cpu, linear);
  cpu.gpr[4] += sizeof(T);
  return true;
}

template <class T>
constexpr unsigned bit_width() {
  return sizeof(T) * 8;
}

template <class T>
constexpr bool msb(T value) {
  return (value >> (bit_width<T>() - 1)) & 1;
}

// Semantics that do nothing (NOP forms, hints, fences on a single in-order CPU).
struct Nop {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu&, const Insn&) {
    return Status::kNext;
  }
};

// Semantics for a form that is decoded but raises #UD (UD0/UD1/UD2).
struct Undefined {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn&) {
    return cpu.raise(x86::Vector::kInvalidOpcode);
  }
};

// The form table of each semantics group (one per file in exec/). forms.cc lists them.
std::span<const FormSpec> alu_forms();
std::span<const FormSpec> data_forms();
std::span<const FormSpec> control_forms();
std::span<const FormSpec> misc_forms();
std::span<const FormSpec> shift_forms();
std::span<const FormSpec> muldiv_forms();
std::span<const FormSpec> bit_forms();
std::span<const FormSpec> bmi_forms();
std::span<const FormSpec> string_forms();
std::span<const FormSpec> atomic_forms();
std::span<const FormSpec> x87_arith_forms();
std::span<const FormSpec> x87_compare_forms();
std::span<const FormSpec> x87_control_forms();
std::span<const FormSpec> x87_load_store_forms();
std::span<const FormSpec> x87_state_forms();
std::span<const FormSpec> x87_transcendental_forms();
std::span<const FormSpec> system_control_forms();
std::span<const FormSpec> system_segment_forms();
std::span<const FormSpec> system_transfer_forms();
std::span<const FormSpec> system_io_forms();
std::span<const FormSpec> sse_move_forms();
std::span<const FormSpec> sse_state_forms();
std::span<const FormSpec> sse_arith_fp_forms();
std::span<const FormSpec> sse_compare_forms();
std::span<const FormSpec> sse_convert_forms();
std::span<const FormSpec> sse_int_forms();
std::span<const FormSpec> sse_shift_forms();
std::span<const FormSpec> sse_shuffle_forms();
std::span<const FormSpec> ssse3_forms();
std::span<const FormSpec> sse41_forms();
std::span<const FormSpec> sse41_fp_forms();
std::span<const FormSpec> mmx_forms();

}  // namespace cella::soft
