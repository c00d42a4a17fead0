// Insn: one decoded instruction, position-independent (RIP-relative operands and branch
// targets are computed from the RIP at execution), so a decoded block is valid wherever its
// physical page is mapped.
#pragma once

#include <cstdint>

namespace cella::soft {

struct SoftCpu;
struct Insn;

// What the executor does after an instruction's semantics return.
enum class Status : uint8_t {
  kNext,     // RIP += length, continue with the next instruction of the block
  kBranch,   // the semantics set RIP; leave the block
  kFault,    // a guest exception is recorded in SoftCpu::fault; RIP is the instruction's
  kExit,     // leave the run loop (SoftCpu::exit_reason says why); RIP already set
  kRestart,  // leave the block without executing this instruction (its block was invalidated)
};

using ExecFn = Status (*)(SoftCpu&, const Insn&);

// Pseudo register numbers in memory-operand fields.
inline constexpr uint8_t kNoRegister = 16;   // SoftCpu::gpr[16] is always zero
inline constexpr uint8_t kRipRelative = 17;  // base = RIP of the next instruction

// Prefix bits (Insn::prefixes).
namespace prefix {
inline constexpr uint8_t kRep = 1 << 0;     // F3: REP / REPE
inline constexpr uint8_t kRepne = 1 << 1;   // F2: REPNE
inline constexpr uint8_t kLock = 1 << 2;    // F0
inline constexpr uint8_t kAddr32 = 1 << 3;  // 67: 32-bit address size
inline constexpr uint8_t kRexW = 1 << 4;
inline constexpr uint8_t kRex = 1 << 5;     // any REX prefix present
inline constexpr uint8_t kOpsize = 1 << 6;  // 66 present (as operand size or mandatory prefix)
}  // namespace prefix

struct Insn {
  ExecFn exec = nullptr;
  int64_t imm = 0;     // immediate or relative offset, sign-extended to 64 bits
  int32_t disp = 0;    // memory displacement
  uint16_t form = 0;   // index in the form table
  uint8_t length = 0;  // bytes
  uint8_t opsize = 0;  // operand size in bytes (1, 2, 4, 8)
  // ModRM.reg operand and ModRM.rm register operand (or the "+r" opcode register). For
  // general-purpose operands this is the byte offset of the register in SoftCpu::gpr
  // (AH..BH: offset of RAX..RBX + 1); for XMM, MMX, x87, segment and control registers, the
  // register number.
  uint8_t reg = 0;
  uint8_t rm = 0;
  uint8_t vvvv = 0;             // VEX.vvvv register, coded like `reg`
  uint8_t base = kNoRegister;   // memory: base register number, kNoRegister, kRipRelative
  uint8_t index = kNoRegister;  // memory: index register number or kNoRegister
  uint8_t scale = 0;            // memory: index shift, 0..3
  uint8_t segment = 0;          // index into SoftCpu::segment_base
  uint8_t prefixes = 0;         // prefix:: bits
  uint8_t imm2 = 0;             // second immediate (ENTER's nesting level, EXTRQ)
  uint8_t modrm = 0;            // the ModRM byte, for semantics keyed on it (x87)
  bool has_memory = false;      // ModRM r/m names memory
};

}  // namespace cella::soft
