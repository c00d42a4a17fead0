// Control transfer: JMP Jcc CALL RET LOOP/LOOPcc JrCXZ INT3 INT UD0/1/2 HLT
// (SDM Vol. 2A/2B, each instruction's page). Near branches have a 64-bit operand size
// regardless of 66 (f64, Intel behaviour; AMD honours 66 there: docs/cpu.md).
#include "engines/soft/exec/common.h"

namespace cella::soft {

namespace {

using namespace attr;
using C = Condition;

// JMP rel / JMP r/m64.
struct Jump {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    if constexpr (kOps[0].kind == OperandKind::kJ) {
      return branch_to(cpu, next_rip(cpu, insn) + static_cast<uint64_t>(insn.imm));
    } else {
      uint64_t target = 0;
      if (!Arg<kOps, 0, kMem>::template read<uint64_t>(cpu, insn, target)) return Status::kFault;
      return branch_to(cpu, target);
    }
  }
};

template <Condition kCondition>
struct JumpIf {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    if (!cpu.flags.test(kCondition)) return Status::kNext;
    return branch_to(cpu, next_rip(cpu, insn) + static_cast<uint64_t>(insn.imm));
  }
};

struct Call {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    uint64_t target = 0;
    if constexpr (kOps[0].kind == OperandKind::kJ) {
      target = next_rip(cpu, insn) + static_cast<uint64_t>(insn.imm);
    } else if (!Arg<kOps, 0, kMem>::template read<uint64_t>(cpu, insn, target)) {
      return Status::kFault;
    }
    if (!is_canonical(target)) return cpu.raise(x86::Vector::kGeneralProtection, 0);
    if (!push<uint64_t>(cpu, next_rip(cpu, insn))) return Status::kFault;
    cpu.rip = target;
    return Status::kBranch;
  }
};

// RET / RET imm16: pop RIP, then release imm16 bytes of stack.
struct Return {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    const uint64_t saved_rsp = cpu.gpr[4];
    uint64_t target = 0;
    if (!pop<uint64_t>(cpu, target)) return Status::kFault;
    if (!is_canonical(target)) {
      cpu.gpr[4] = saved_rsp;
      return cpu.raise(x86::Vector::kGeneralProtection, 0);
    }
    if constexpr (kOps.count == 1) cpu.gpr[4] += static_cast<uint16_t>(insn.imm);
    cpu.rip = target;
    return Status::kBranch;
  }
};

// The count register of LOOP/JrCXZ follows the address size (SDM Vol. 2A LOOP).
inline uint64_t count_register(const SoftCpu& cpu, const Insn& insn) {
  return (insn.prefixes & prefix::kAddr32) ? static_cast<uint32_t>(cpu.gpr[1]) : cpu.gpr[1];
}

enum class LoopKind { kAlways, kWhileEqual, kWhileNotEqual };
template <LoopKind kKind>
struct Loop {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    uint64_t count;
    if (insn.prefixes & prefix::kAddr32) {
      count = static_cast<uint32_t>(cpu.gpr[1] - 1);
      cpu.gpr[1] = count;
    } else {
      count = --cpu.gpr[1];
    }
    bool taken = count != 0;
    if constexpr (kKind == LoopKind::kWhileEqual) taken = taken && cpu.flags.test(C::kE);
    if constexpr (kKind == LoopKind::kWhileNotEqual) taken = taken && cpu.flags.test(C::kNe);
    if (!taken) return Status::kNext;
    return branch_to(cpu, next_rip(cpu, insn) + static_cast<uint64_t>(insn.imm));
  }
};

struct JumpIfCountZero {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    if (count_register(cpu, insn) != 0) return Status::kNext;
    return branch_to(cpu, next_rip(cpu, insn) + static_cast<uint64_t>(insn.imm));
  }
};

// INT3: a trap, so the reported RIP is the next instruction's (SDM Vol. 3A 6.5). In a machine
// it is a software interrupt: the IDT gate's DPL is checked (SDM Vol. 3A 6.12.1.1).
struct Breakpoint {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    cpu.rip = next_rip(cpu, insn);
    cpu.software_interrupt = cpu.environment.deliver_exceptions;
    return cpu.raise(x86::Vector::kBreakpoint);
  }
};

// INT n: in a machine, delivered through the IDT gate (interrupts.cc) with RIP past the
// instruction. A process VM has no accessible gate but vector 3 and 4 (Linux user space), so
// it becomes #GP with the IDT error code (vector * 8 + 2).
struct SoftwareInterrupt {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    const auto vector = static_cast<uint8_t>(insn.imm);
    if (cpu.environment.deliver_exceptions) {
      cpu.rip = next_rip(cpu, insn);
      cpu.software_interrupt = true;
      return cpu.raise(static_cast<x86::Vector>(vector));
    }
    return cpu.raise(x86::Vector::kGeneralProtection, vector * 8u + 2u);
  }
};

// HLT is privileged: #GP(0) at CPL > 0 (SDM Vol. 2A HLT).
struct Halt {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    if (cpu.cpl() != 0) return cpu.raise(x86::Vector::kGeneralProtection, 0);
    cpu.rip = next_rip(cpu, insn);
    cpu.exit_reason = ExitReason::kHalt;
    return Status::kExit;
  }
};

constexpr uint64_t kBranch = kF64 | kEndsBlock;

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic  opcode      operands  attributes         semantics
    FORM("JMP",    "EB",       "Jb",    kBranch,              Jump),
    FORM("JMP",    "E9",       "Jz",    kBranch,              Jump),
    FORM("JMP",    "FF /4",    "Ev",    kBranch,              Jump),
    FORM("JO",     "70",       "Jb",    kBranch,              JumpIf<C::kO>),
    FORM("JNO",    "71",       "Jb",    kBranch,              JumpIf<C::kNo>),
    FORM("JB",     "72",       "Jb",    kBranch,              JumpIf<C::kB>),
    FORM("JAE",    "73",       "Jb",    kBranch,              JumpIf<C::kAe>),
    FORM("JE",     "74",       "Jb",    kBranch,              JumpIf<C::kE>),
    FORM("JNE",    "75",       "Jb",    kBranch,              JumpIf<C::kNe>),
    FORM("JBE",    "76",       "Jb",    kBranch,              JumpIf<C::kBe>),
    FORM("JA",     "77",       "Jb",    kBranch,              JumpIf<C::kA>),
    FORM("JS",     "78",       "Jb",    kBranch,              JumpIf<C::kS>),
    FORM("JNS",    "79",       "Jb",    kBranch,              JumpIf<C::kNs>),
    FORM("JP",     "7A",       "Jb",    kBranch,              JumpIf<C::kP>),
    FORM("JNP",    "7B",       "Jb",    kBranch,              JumpIf<C::kNp>),
    FORM("JL",     "7C",       "Jb",    kBranch,              JumpIf<C::kL>),
    FORM("JGE",    "7D",       "Jb",    kBranch,              JumpIf<C::kGe>),
    FORM("JLE",    "7E",       "Jb",    kBranch,              JumpIf<C::kLe>),
    FORM("JG",     "7F",       "Jb",    kBranch,              JumpIf<C::kG>),
    FORM("JO",     "0F 80",    "Jz",    kBranch,              JumpIf<C::kO>),
    FORM("JNO",    "0F 81",    "Jz",    kBranch,              JumpIf<C::kNo>),
    FORM("JB",     "0F 82",    "Jz",    kBranch,              JumpIf<C::kB>),
    FORM("JAE",    "0F 83",    "Jz",    kBranch,              JumpIf<C::kAe>),
    FORM("JE",     "0F 84",    "Jz",    kBranch,              JumpIf<C::kE>),
    FORM("JNE",    "0F 85",    "Jz",    kBranch,              JumpIf<C::kNe>),
    FORM("JBE",    "0F 86",    "Jz",    kBranch,              JumpIf<C::kBe>),
    FORM("JA",     "0F 87",    "Jz",    kBranch,              JumpIf<C::kA>),
    FORM("JS",     "0F 88",    "Jz",    kBranch,              JumpIf<C::kS>),
    FORM("JNS",    "0F 89",    "Jz",    kBranch,              JumpIf<C::kNs>),
    FORM("JP",     "0F 8A",    "Jz",    kBranch,              JumpIf<C::kP>),
    FORM("JNP",    "0F 8B",    "Jz",    kBranch,              JumpIf<C::kNp>),
    FORM("JL",     "0F 8C",    "Jz",    kBranch,              JumpIf<C::kL>),
    FORM("JGE",    "0F 8D",    "Jz",    kBranch,              JumpIf<C::kGe>),
    FORM("JLE",    "0F 8E",    "Jz",    kBranch,              JumpIf<C::kLe>),
    FORM("JG",     "0F 8F",    "Jz",    kBranch,              JumpIf<C::kG>),
    FORM("CALL",   "E8",       "Jz",    kBranch,              Call),
    FORM("CALL",   "FF /2",    "Ev",    kBranch,              Call),
    FORM("RET",    "C3",       "",      kBranch,              Return),
    FORM("RET",    "C2",       "Iw",    kBranch,              Return),
    FORM("LOOPNE", "E0",       "Jb",    kBranch,              Loop<LoopKind::kWhileNotEqual>),
    FORM("LOOPE",  "E1",       "Jb",    kBranch,              Loop<LoopKind::kWhileEqual>),
    FORM("LOOP",   "E2",       "Jb",    kBranch,              Loop<LoopKind::kAlways>),
    FORM("JRCXZ",  "E3",       "Jb",    kBranch,              JumpIfCountZero),
    FORM("INT3",   "CC",       "",      kEndsBlock,           Breakpoint),
    FORM("INT",    "CD",       "Ib",    kEndsBlock | kNoDiff, SoftwareInterrupt),
    FORM("UD0",    "0F FF /r", "Gd,Ed", kEndsBlock,           Undefined),
    FORM("UD1",    "0F B9 /r", "Gd,Ed", kEndsBlock,           Undefined),
    FORM("UD2",    "0F 0B",    "",      kEndsBlock,           Undefined),
    FORM("HLT",    "F4",       "",      kEndsBlock | kNoDiff, Halt),
};
// clang-format on

}  // namespace

std::span<const FormSpec> control_forms() {
  return kForms;
}

}  // namespace cella::soft
