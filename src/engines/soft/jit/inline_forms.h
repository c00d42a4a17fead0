// The instructions the translator emits as inline host code, one table line per mnemonic
// (inline_forms.cc); every other instruction calls its interpreter semantics.
#pragma once

#include "engines/soft/insn.h"

namespace cella::soft::jit {

class BlockTranslator;

// What an instruction's inline translation does to the flags, for deciding that a flag record
// is dead. Every kind but kOther is certain to be emitted inline and to touch no memory, so
// it can neither fault nor leave the block.
enum class FlagEffect {
  kOther,           // anything else (memory, calls, LOCK, branches, ADC/SBB, ...)
  kPreserves,       // MOV, MOVZX/MOVSX/MOVSXD, LEA, NOP: neither reads nor writes flags
  kReads,           // CMOVcc, SETcc: read the flags (the host's when they are live)
  kOverwritesLive,  // ADD SUB CMP AND OR XOR TEST: all six flags, host flags left live
  kOverwritesLazy,  // SHL/SHR/SAR by a nonzero constant, IMUL: all six flags, lazily only
};
FlagEffect inline_flag_effect(const Insn& insn);

// Emits the current instruction of `t` inline and returns true, or emits nothing and returns
// false when the form or its operands (LOCK, a memory read-modify-write, an operand kind the
// translator does not load) are not handled inline.
bool emit_inline(BlockTranslator& t);

}  // namespace cella::soft::jit
