// The x87 FPU state helpers shared by the x87 semantics (exec/x87_*.cc) and by MMX, whose
// registers alias the x87 ones (SDM Vol. 1 9.5): the register stack (TOP and tags), the status
// word, stack faults, the pending-exception model, and the last-instruction pointers. The state
// itself is cpu.arch.x87 (x86::X87State). SDM Vol. 1 chapter 8.
#pragma once

#include <cstdint>

#include "cpu/x86/fxsave.h"
#include "engines/soft/exec/common.h"

namespace cella::soft::x87 {

using x86::Float80;
using x86::X87State;

// SDM Vol. 1 8.1.3, Figure 8-4: the status word.
namespace fsw {
inline constexpr uint16_t kIe = 1 << 0;  // invalid operation
inline constexpr uint16_t kDe = 1 << 1;  // denormal operand
inline constexpr uint16_t kZe = 1 << 2;  // zero divide
inline constexpr uint16_t kOe = 1 << 3;  // overflow
inline constexpr uint16_t kUe = 1 << 4;  // underflow
inline constexpr uint16_t kPe = 1 << 5;  // precision
inline constexpr uint16_t kSf = 1 << 6;  // stack fault
inline constexpr uint16_t kEs = 1 << 7;  // exception summary
inline constexpr uint16_t kC0 = 1 << 8;
inline constexpr uint16_t kC1 = 1 << 9;
inline constexpr uint16_t kC2 = 1 << 10;
inline constexpr unsigned kTopShift = 11;
inline constexpr uint16_t kTop = 7 << kTopShift;
inline constexpr uint16_t kC3 = 1 << 14;
inline constexpr uint16_t kB = 1 << 15;  // busy: mirrors ES (SDM Vol. 1 8.1.3.6)
inline constexpr uint16_t kExceptions = 0x3f;
inline constexpr uint16_t kConditions = kC0 | kC1 | kC2 | kC3;
}  // namespace fsw

// SDM Vol. 1 8.1.5, Figure 8-6: the control word. Bits 0-5 mask the exceptions of the same
// bit in the status word; bits 8-9 are precision control, 10-11 rounding control.
namespace fcw {
inline constexpr uint16_t kMasks = 0x3f;
inline constexpr uint16_t kInitial = 0x037f;  // SDM Vol. 1 8.1.5: after FNINIT
}  // namespace fcw

// SDM Vol. 1 8.1.7: tag values.
inline constexpr unsigned kTagEmpty = 3;

// SDM Vol. 1 4.8.3.7, Table 4-3: the QNaN floating-point indefinite.
inline constexpr Float80 kIndefinite{0xC000000000000000, 0xFFFF};

// ---- The register stack (SDM Vol. 1 8.1.2) ----

inline unsigned top(const X87State& s) {
  return (s.status >> fsw::kTopShift) & 7;
}
inline void set_top(X87State& s, unsigned value) {
  s.status = static_cast<uint16_t>((s.status & ~fsw::kTop) | ((value & 7) << fsw::kTopShift));
}
// The physical register R0..R7 that is ST(i).
inline unsigned physical(const X87State& s, unsigned i) {
  return (top(s) + i) & 7;
}
inline unsigned tag_of_physical(const X87State& s, unsigned p) {
  return (s.tag >> (2 * p)) & 3;
}
inline bool is_empty(const X87State& s, unsigned i) {
  return tag_of_physical(s, physical(s, i)) == kTagEmpty;
}
inline const Float80& st(const X87State& s, unsigned i) {
  return s.physical[physical(s, i)];
}
// Writes a physical register and its tag, which always describes the contents (SDM Vol. 1
// 8.1.7: valid, zero or special), so FSTENV/FSAVE/FXSAVE images are exact.
inline void write_physical(X87State& s, unsigned p, const Float80& value) {
  s.physical[p] = value;
  const unsigned shift = 2 * p;
  s.tag = static_cast<uint16_t>((s.tag & ~(3u << shift)) | (x86::tag_for(value) << shift));
}
inline void free_physical(X87State& s, unsigned p) {
  s.tag = static_cast<uint16_t>(s.tag | (kTagEmpty << (2 * p)));
}
inline void set_st(X87State& s, unsigned i, const Float80& value) {
  write_physical(s, physical(s, i), value);
}
// SDM Vol. 1 8.1.2: a push decrements TOP and loads the new ST(0); a pop empties ST(0) and
// increments TOP.
inline void push(X87State& s, const Float80& value) {
  set_top(s, top(s) - 1);
  set_st(s, 0, value);
}
inline void pop(X87State& s) {
  free_physical(s, physical(s, 0));
  set_top(s, top(s) + 1);
}
// The register a push would load (ST(7) before the push) is empty, so the push cannot overflow.
inline bool can_push(const X87State& s) {
  return is_empty(s, 7);
}

// The tag word recomputed from the register contents (SDM Vol. 1 8.1.7), for state loaded
// from outside the x87 instructions (FLDENV, FRSTOR, FXRSTOR, MMX, set_state).
inline uint16_t exact_tags(const X87State& s) {
  return x86::full_tags(x86::abridged_tags(s.tag), s.physical);
}

// ---- Status word and exceptions (SDM Vol. 1 8.4 - 8.7) ----

// ES and B summarize the exception flags that the control word leaves unmasked; hardware keeps
// them current whenever either word changes (FLDCW, FLDENV, FRSTOR, FXRSTOR, FNSTENV).
inline void update_summary(X87State& s) {
  const bool pending = (s.status & ~s.control & fsw::kExceptions) != 0;
  s.status = static_cast<uint16_t>((s.status & ~(fsw::kEs | fsw::kB)) |
                                   (pending ? fsw::kEs | fsw::kB : 0));
}

// Sets condition codes `mask` to `bits` and ORs in exception flags (which are sticky).
inline void set_status(X87State& s, uint16_t mask, uint16_t bits, uint16_t exceptions) {
  s.status = static_cast<uint16_t>((s.status & ~mask) | (bits & mask) | exceptions);
  update_summary(s);
}

// SDM Vol. 1 8.5.1.1: a stack overflow (push onto a full register, C1 = 1) or underflow (read
// of an empty register, C1 = 0) sets IE and SF. Returns whether the invalid-operation
// exception is masked, in which case the caller delivers the default result (the indefinite);
// unmasked, the instruction changes nothing else (SDM Vol. 1 8.5.1).
inline bool stack_fault(X87State& s, bool overflow) {
  set_status(s, fsw::kC1, overflow ? fsw::kC1 : 0, fsw::kIe | fsw::kSf);
  return (s.control & fsw::kIe) != 0;
}

// The exceptions of `status` that the control word leaves unmasked.
inline uint16_t unmasked(uint16_t status, uint16_t control) {
  return status & ~control & fsw::kExceptions;
}

// Whether an instruction whose execution raised `status` delivers its results. Unmasked
// invalid-operation, denormal-operand and divide-by-zero exceptions are detected before the
// operation and leave the destination and the stack unchanged (SDM Vol. 1 8.5.1 - 8.5.3);
// unmasked overflow and underflow still deliver the exponent-adjusted result to a register,
// but not to memory, where nothing is stored and nothing is popped (SDM Vol. 1 8.5.4, 8.5.5);
// an unmasked precision exception delivers the rounded result (SDM Vol. 1 8.5.6).
inline bool delivers(uint16_t status, uint16_t control, bool to_memory) {
  const uint16_t u = unmasked(status, control);
  if (u & (fsw::kIe | fsw::kDe | fsw::kZe)) return false;
  if (to_memory && (u & (fsw::kOe | fsw::kUe))) return false;
  return true;
}

// ---- Instruction prologue and bookkeeping ----

// SDM Vol. 3A 2.5 and Table 2-2 (the CR0 hook of the system half of the CPU): with CR0.EM or
// CR0.TS set an x87 instruction raises #NM.
inline bool available(SoftCpu& cpu) {
  if (cpu.arch.cr0 & (x86::cr0::kEm | x86::cr0::kTs)) [[unlikely]] {
    cpu.raise(x86::Vector::kDeviceNotAvailable);
    return false;
  }
  return true;
}

// A pending unmasked exception (ES) is delivered as #MF before the next waiting x87 (or MMX)
// instruction executes (SDM Vol. 1 8.6, 8.7; CR0.NE = 1 native reporting). Returns false with
// the fault recorded; the instruction then changes nothing.
inline bool deliver_pending(SoftCpu& cpu) {
  if (cpu.arch.x87.status & fsw::kEs) [[unlikely]] {
    cpu.raise(x86::Vector::kX87FloatingPoint);
    return false;
  }
  return true;
}

// The checks before a waiting instruction (every x87 instruction without the FN prefix).
inline bool begin(SoftCpu& cpu) {
  return available(cpu) && deliver_pending(cpu);
}

// SDM Vol. 1 8.1.8, 8.1.9: a non-control instruction records its address and code segment, its
// opcode (low 3 bits of the escape byte, then the ModRM byte) and, with a memory operand, the
// operand's offset and segment. In 64-bit mode the pointers are 64-bit offsets.
template <uint8_t kOpcode>
inline void record(SoftCpu& cpu, const Insn& insn) {
  X87State& s = cpu.arch.x87;
  s.last_instruction = cpu.rip;
  s.last_cs = cpu.arch.seg(x86::Segment::kCs).selector;
  s.last_opcode = static_cast<uint16_t>((kOpcode & 7) << 8 | insn.modrm);
  if (insn.has_memory) {
    s.last_data = effective_offset(cpu, insn);
    s.last_ds = cpu.arch.segment[insn.segment].selector;
  }
}

// SDM Vol. 1 8.1.5: FCW bit 6 reads as 1 and bits 13-15 as 0 whatever was loaded (as the
// host processor does; bit 12, the obsolete infinity control, is kept).
inline uint16_t loadable_control(uint16_t value) {
  return static_cast<uint16_t>((value & 0x1f3f) | 0x40);
}

// FNINIT (and FNSAVE after saving): FCW = 037FH, FSW = 0, all registers empty, pointers and
// FOP cleared (SDM Vol. 2A FINIT/FNINIT; the host processor clears FCS and FDS too).
inline void initialize(X87State& s) {
  s.control = fcw::kInitial;
  s.status = 0;
  s.tag = 0xffff;
  s.last_opcode = 0;
  s.last_instruction = s.last_data = 0;
  s.last_cs = s.last_ds = 0;
}

// ---- MMX aliasing (SDM Vol. 1 9.5), for the MMX semantics ----

// Before an MMX instruction other than EMMS: TOP = 0 and every register tagged in use
// (SDM Vol. 1 9.5.1, Table 9-2). Callers first raise #UD for CR0.EM, then use begin() (#NM
// for CR0.TS, #MF for a pending x87 exception: SDM Vol. 3A Table 2-2).
inline void enter_mmx(X87State& s) {
  set_top(s, 0);
  s.tag = x86::full_tags(0xff, s.physical);
}
// EMMS: every register empty (SDM Vol. 2A EMMS).
inline void empty_mmx(X87State& s) {
  s.tag = 0xffff;
}
// MMi is the significand of physical register Ri; a write sets the exponent and sign bits to
// all ones (SDM Vol. 1 9.5.1).
inline uint64_t mmx(const X87State& s, unsigned i) {
  return s.physical[i].significand;
}
inline void set_mmx(X87State& s, unsigned i, uint64_t value) {
  write_physical(s, i, Float80{value, 0xffff});
}

}  // namespace cella::soft::x87
