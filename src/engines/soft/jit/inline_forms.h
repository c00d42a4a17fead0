// The instructions the translator emits as inline host code, one table line per mnemonic
// (inline_forms.cc); every other instruction calls its interpreter semantics.
#pragma once

namespace cella::soft::jit {

class BlockTranslator;

// Emits the current instruction of `t` inline and returns true, or emits nothing and returns
// false when the form or its operands (LOCK, a memory read-modify-write, an operand kind the
// translator does not load) are not handled inline.
bool emit_inline(BlockTranslator& t);

}  // namespace cella::soft::jit
