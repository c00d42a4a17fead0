// Helpers shared by the system instruction groups (exec/system_*.cc): privilege checks,
// segment loads through descriptors, and the I/O permission check.
#pragma once

#include <type_traits>

#include "cpu/x86/control_registers.h"
#include "engines/soft/descriptors.h"
#include "engines/soft/exec/common.h"

namespace cella::soft {

// SDM Vol. 3A 5.9: privileged instructions raise #GP(0) at CPL > 0. False: raised.
inline bool privileged(SoftCpu& cpu) {
  if (cpu.cpl() == 0) [[likely]]
    return true;
  cpu.raise(x86::Vector::kGeneralProtection, 0);
  return false;
}

inline int iopl(const SoftCpu& cpu) {
  return static_cast<int>((cpu.flags.other & x86::rflags::kIopl) >> x86::rflags::kIoplShift);
}

// SDM Vol. 2A IN/OUT, INS/OUTS: REX.W does not widen port I/O; the "z" operand stays 32-bit.
template <class T>
using PortOperand = std::conditional_t<sizeof(T) == 8, uint32_t, T>;

// SDM Vol. 1 19.5, 19.5.2: at CPL > IOPL, every bit of the port range in the TSS's I/O
// permission bit map must be clear. False: #GP(0) raised (or a fault reading the TSS).
bool io_allowed(SoftCpu& cpu, uint16_t port, unsigned size);

// Loads DS, ES, FS, GS or SS with `selector` as MOV Sreg and POP Sreg do in 64-bit mode (SDM
// Vol. 2B MOV, POP: protected-mode checks). False: a fault is raised, nothing changed.
bool load_data_segment(SoftCpu& cpu, x86::Segment segment, uint16_t selector);

// Loads CS for a far transfer to `selector` at privilege `new_cpl` (the selector's RPL for
// returns, the CPL for jumps and calls): the descriptor must be a present 64-bit code segment
// that this transfer may reach (SDM Vol. 2A JMP, Vol. 2B RET, IRET). Returns the descriptor in
// `code`; kExit with ExitReason::kUnsupported for a compatibility-mode segment.
Status check_code_segment(SoftCpu& cpu, uint16_t selector, int new_cpl, bool returning,
                          uint64_t& code);

// Checks the SS selector popped by a return to privilege `new_cpl` (SDM Vol. 2B IRET, RET):
// a null selector is allowed in 64-bit mode below CPL 3. Returns the loaded cache in `ss`.
bool check_stack_segment(SoftCpu& cpu, uint16_t selector, int new_cpl, x86::SegmentRegister& ss);

// After a return to an outer privilege level: DS, ES, FS and GS that the new CPL may not use
// become null (SDM Vol. 2B RET, IRET: "FOR each of segment register (ES, FS, GS, and DS)").
void null_inaccessible_segments(SoftCpu& cpu);

// The null-selector cache of a segment register (SDM Vol. 3A 3.4.2: unusable).
x86::SegmentRegister null_segment(uint16_t selector, int dpl);

}  // namespace cella::soft
