// The inline forms: one table line per mnemonic, naming the emitter and its parameters. An
// emitter checks the instruction's operands first and emits nothing when it declines (the
// instruction then calls its semantics). Each one reproduces its interpreter semantics in
// exec/ (named beside it), including the lazy flags it records.
#include "engines/soft/jit/inline_forms.h"

#include <array>
#include <string_view>
#include <vector>

#include "engines/soft/decoder/decoder.h"
#include "engines/soft/jit/block_translator.h"

namespace cella::soft::jit {

namespace {

using Gen = Xbyak::CodeGenerator;
using Xbyak::Reg;
using Xbyak::Reg64;

// The host register of `size` bytes that is the low part of `r`.
Reg sized(const Reg64& r, int size) {
  switch (size) {
    case 1:
      return r.cvt8();
    case 2:
      return r.cvt16();
    case 4:
      return r.cvt32();
    default:
      return r;
  }
}

using HostBinary = void (*)(Gen&, const Reg&, const Reg&);
using HostShift = void (*)(Gen&, const Reg&, int);

struct InlineForm;
using Emitter = bool (*)(BlockTranslator&, const InlineForm&, Condition);

struct InlineForm {
  std::string_view mnemonic;
  Emitter emit;
  FlagOp flag_op = FlagOp::kNone;
  HostBinary binary = nullptr;  // ALU: dst = dst op src on sized host registers
  bool writes = true;           // ALU: the result is stored (not CMP/TEST)
  HostShift shift = nullptr;
  bool sign_extend = false;  // MOVSX
};

// ---- MOV MOVZX MOVSX MOVSXD (exec/data.cc Move, Movsxd) ----
bool emit_move(BlockTranslator& t, const InlineForm& f, Condition) {
  const OperandList& ops = t.form().operand_list;
  if (ops.count != 2 || !t.supported(ops[0]) || !t.supported(ops[1])) return false;
  const Insn& in = t.insn();
  const int size = in.opsize;
  int source_size = size;  // MOV: the destination's type
  bool sign_extend = f.sign_extend;
  if (f.mnemonic == "MOVZX" || f.mnemonic == "MOVSX") source_size = t.operand_size(ops[1]);
  if (f.mnemonic == "MOVSXD") {
    source_size = 4;
    sign_extend = size == 8;
  }
  if (source_size == 0) return false;
  t.load(ops[1], source_size, t.g.rax);
  if (sign_extend && source_size < size) {
    if (source_size == 4) {
      t.g.movsxd(t.g.rax, t.g.eax);
    } else {
      t.g.movsx(t.g.rax, sized(t.g.rax, source_size));
    }
  }
  t.store(ops[0], size, t.g.rax);
  return true;
}

// ---- LEA (exec/data.cc Lea): the effective address, no segment base, operand size ----
bool emit_lea(BlockTranslator& t, const InlineForm&, Condition) {
  if (!t.address_supported()) return false;
  t.effective_offset_to_rsi();
  t.store_register(t.insn().reg, t.insn().opsize, t.g.rsi);
  return true;
}

// ---- ADD OR ADC SBB AND SUB XOR CMP TEST (exec/alu.cc Binary) ----
bool emit_binary(BlockTranslator& t, const InlineForm& f, Condition) {
  const OperandList& ops = t.form().operand_list;
  const Insn& in = t.insn();
  if (ops.count != 2 || !t.supported(ops[0]) || !t.supported(ops[1])) return false;
  if (in.prefixes & prefix::kLock) return false;
  const bool destination_in_memory = t.in_memory(ops[0]);
  if (destination_in_memory && f.writes) return false;  // read-modify-write: semantics
  const int size = in.opsize;
  Gen& g = t.g;
  const bool uses_carry = f.flag_op == FlagOp::kAdc || f.flag_op == FlagOp::kSbb;
  if (uses_carry) {
    t.carry_to_r8();
    t.record_carry_in(g.r8);
  }
  // The memory operand first: its slow path clobbers scratch registers.
  if (destination_in_memory) {
    t.load(ops[0], size, g.rax);
    t.load(ops[1], size, g.rcx);
  } else {
    t.load(ops[1], size, g.rcx);
    t.load(ops[0], size, g.rax);
  }
  g.mov(g.rdx, g.rax);
  if (uses_carry) g.bt(g.r8d, 0);  // CF = the carry in (R8 survives the loads)
  f.binary(g, sized(g.rax, size), sized(g.rcx, size));
  if (f.writes) t.store(ops[0], size, g.rax);
  t.record_flags(f.flag_op, size, g.rax, g.rdx, g.rcx);
  t.set_flags_live(true);
  return true;
}

// ---- SHL SHR SAR by an immediate or 1 (exec/shift.cc Shift) ----
bool emit_shift(BlockTranslator& t, const InlineForm& f, Condition) {
  const OperandList& ops = t.form().operand_list;
  const Insn& in = t.insn();
  if (ops.count != 2 || in.has_memory || !t.supported(ops[0])) return false;
  int count;
  if (ops[1].kind == OperandKind::kOne) {
    count = 1;
  } else if (ops[1].kind == OperandKind::kI) {
    count = static_cast<int>(in.imm & 0xff);
  } else {
    return false;  // by CL
  }
  const int size = in.opsize;
  count &= size == 8 ? 63 : 31;
  if (count == 0) return false;  // no flags change; the semantics handle it
  Gen& g = t.g;
  t.load(ops[0], size, g.rax);
  g.mov(g.rdx, g.rax);
  f.shift(g, sized(g.rax, size), count);
  t.store(ops[0], size, g.rax);
  g.mov(g.ecx, static_cast<uint32_t>(count));
  t.record_flags(f.flag_op, size, g.rax, g.rdx, g.rcx);
  t.set_flags_live(false);  // OF beyond a count of 1: Cella's value, not necessarily the host's
  return true;
}

// ---- IMUL Gv,Ev and Gv,Ev,imm (exec/muldiv.cc MultiplySigned) ----
bool emit_multiply(BlockTranslator& t, const InlineForm&, Condition) {
  const OperandList& ops = t.form().operand_list;
  if (ops.count < 2 || !t.supported(ops[1])) return false;
  const Insn& in = t.insn();
  const int size = in.opsize;
  if (size == 1) return false;
  Gen& g = t.g;
  t.load(ops[1], size, g.rax);
  t.load(ops.count == 3 ? ops[2] : ops[0], size, g.rcx);
  g.imul(sized(g.rax, size), sized(g.rcx, size));
  g.seto(g.r8b);  // the signed product overflowed the operand size
  g.movzx(g.r8d, g.r8b);
  t.store_register(in.reg, size, g.rax);
  g.mov(g.ecx, 0);
  t.record_flags(FlagOp::kMul, size, g.rax, g.r8, g.rcx);
  t.set_flags_live(false);
  return true;
}

// ---- CMOVcc (exec/data.cc Cmov): the source is always read; 32-bit zero-extends ----
bool emit_cmov(BlockTranslator& t, const InlineForm&, Condition condition) {
  const OperandList& ops = t.form().operand_list;
  if (ops.count != 2 || !t.supported(ops[1])) return false;
  const Insn& in = t.insn();
  const int size = in.opsize;
  Gen& g = t.g;
  int cc = t.condition_code(condition);
  if (t.in_memory(ops[1]) || cc != static_cast<int>(condition)) {
    // Keep the condition in R8 across the loads (a memory slow path preserves R8).
    t.setcc(cc, g.r8b);
    t.load(ops[1], size, g.rcx);
    t.load(ops[0], size, g.rax);
    g.test(g.r8b, g.r8b);
    cc = static_cast<int>(Condition::kNe);
    t.set_flags_live(false);
  } else {
    t.load(ops[1], size, g.rcx);
    t.load(ops[0], size, g.rax);
  }
  t.cmovcc(cc, sized(g.rax, size), sized(g.rcx, size));
  t.store_register(in.reg, size, g.rax);
  return true;
}

// ---- SETcc (exec/data.cc Setcc) ----
bool emit_setcc(BlockTranslator& t, const InlineForm&, Condition condition) {
  const OperandList& ops = t.form().operand_list;
  if (ops.count != 1 || !t.supported(ops[0])) return false;
  Gen& g = t.g;
  t.setcc(t.condition_code(condition), g.al);
  t.store(ops[0], 1, g.rax);
  return true;
}

// ---- Jcc rel (exec/control.cc JumpIf): ends the block ----
bool emit_jump_if(BlockTranslator& t, const InlineForm&, Condition condition) {
  const OperandList& ops = t.form().operand_list;
  if (ops.count != 1 || ops[0].kind != OperandKind::kJ || !t.is_last()) return false;
  Xbyak::Label taken;
  t.jcc(t.condition_code(condition), taken);
  t.fall_through();
  t.g.L(taken);
  t.branch_relative(t.insn().imm);
  return true;
}

// ---- JMP rel (exec/control.cc Jump) ----
bool emit_jump(BlockTranslator& t, const InlineForm&, Condition) {
  const OperandList& ops = t.form().operand_list;
  if (ops.count != 1 || ops[0].kind != OperandKind::kJ || !t.is_last()) return false;
  t.branch_relative(t.insn().imm);
  return true;
}

// ---- PUSH r/imm/m (exec/data.cc Push), 64-bit ----
bool emit_push(BlockTranslator& t, const InlineForm&, Condition) {
  const OperandList& ops = t.form().operand_list;
  if (ops.count != 1 || t.insn().opsize != 8 || !t.supported(ops[0])) return false;
  t.load(ops[0], 8, t.g.rax);  // PUSH RSP pushes the value before the decrement
  t.push(t.g.rax, true);
  return true;
}

// ---- POP r (exec/data.cc Pop), 64-bit: POP RSP leaves the popped value in RSP ----
bool emit_pop(BlockTranslator& t, const InlineForm&, Condition) {
  const OperandList& ops = t.form().operand_list;
  if (ops.count != 1 || ops[0].kind != OperandKind::kZ || t.insn().opsize != 8) return false;
  Gen& g = t.g;
  t.pop(g.rax);
  g.add(g.qword[g.rbx + t.gpr_offset(BlockTranslator::kRspByteOffset)], 8);
  t.store_register(t.insn().rm, 8, g.rax);
  return true;
}

// ---- CALL rel (exec/control.cc Call): the target is checked before the push ----
bool emit_call(BlockTranslator& t, const InlineForm&, Condition) {
  const OperandList& ops = t.form().operand_list;
  if (ops.count != 1 || ops[0].kind != OperandKind::kJ || !t.is_last()) return false;
  Gen& g = t.g;
  t.relative_target_to_rax(t.insn().imm);
  t.check_canonical_rax();
  g.mov(g.r9, g.rax);
  t.next_rip_to_rax();
  t.push(g.rax, false);
  g.mov(g.rax, g.r9);
  t.branch_to_rax(true);
  return true;
}

// ---- RET / RET imm16 (exec/control.cc Return): RSP moves only when the target is good ----
bool emit_return(BlockTranslator& t, const InlineForm&, Condition) {
  const OperandList& ops = t.form().operand_list;
  if (!t.is_last()) return false;
  Gen& g = t.g;
  t.pop(g.rax);
  t.check_canonical_rax();
  const int32_t release = ops.count == 1 ? static_cast<uint16_t>(t.insn().imm) : 0;
  g.add(g.qword[g.rbx + t.gpr_offset(BlockTranslator::kRspByteOffset)], 8 + release);
  t.branch_to_rax(false);  // the target comes from the stack
  return true;
}

// ---- NOP forms (exec/common.h Nop): nothing to do ----
bool emit_nothing(BlockTranslator&, const InlineForm&, Condition) {
  return true;
}

template <void (Gen::*kOp)(const Xbyak::Operand&, const Xbyak::Operand&)>
void host_binary(Gen& g, const Reg& a, const Reg& b) {
  (g.*kOp)(a, b);
}
template <void (Gen::*kOp)(const Xbyak::Operand&, int)>
void host_shift(Gen& g, const Reg& a, int count) {
  (g.*kOp)(a, count);
}

// CMP and TEST compute with SUB and AND (identical flags) and do not store the result.
// clang-format off
const InlineForm kInlineForms[] = {
    //  mnemonic   emitter         flags            host operation
    {"MOV",    emit_move},
    {"MOVZX",  emit_move},
    {"MOVSX",  emit_move,     FlagOp::kNone, nullptr, true, nullptr, true},
    {"MOVSXD", emit_move},
    {"LEA",    emit_lea},
    {"ADD",    emit_binary,   FlagOp::kAdd,   host_binary<&Gen::add>},
    {"OR",     emit_binary,   FlagOp::kLogic, host_binary<&Gen::or_>},
    {"ADC",    emit_binary,   FlagOp::kAdc,   host_binary<&Gen::adc>},
    {"SBB",    emit_binary,   FlagOp::kSbb,   host_binary<&Gen::sbb>},
    {"AND",    emit_binary,   FlagOp::kLogic, host_binary<&Gen::and_>},
    {"SUB",    emit_binary,   FlagOp::kSub,   host_binary<&Gen::sub>},
    {"XOR",    emit_binary,   FlagOp::kLogic, host_binary<&Gen::xor_>},
    {"CMP",    emit_binary,   FlagOp::kSub,   host_binary<&Gen::sub>, false},
    {"TEST",   emit_binary,   FlagOp::kLogic, host_binary<&Gen::and_>, false},
    {"SHL",    emit_shift,    FlagOp::kShl,   nullptr, true, host_shift<&Gen::shl>},
    {"SHR",    emit_shift,    FlagOp::kShr,   nullptr, true, host_shift<&Gen::shr>},
    {"SAR",    emit_shift,    FlagOp::kSar,   nullptr, true, host_shift<&Gen::sar>},
    {"IMUL",   emit_multiply},
    {"JMP",    emit_jump},
    {"CALL",   emit_call},
    {"RET",    emit_return},
    {"PUSH",   emit_push},
    {"POP",    emit_pop},
    {"NOP",    emit_nothing},
};
// clang-format on

// Condition mnemonic suffixes in encoding order (SDM Vol. 1 Appendix B, Table B-1), as the
// form table spells them: J<cc>, CMOV<cc>, SET<cc>.
constexpr std::array<std::string_view, 16> kConditionSuffixes = {
    "O", "NO", "B", "AE", "E", "NE", "BE", "A", "S", "NS", "P", "NP", "L", "GE", "LE", "G"};

struct ConditionFamily {
  std::string_view prefix;
  Emitter emit;
};
constexpr ConditionFamily kConditionFamilies[] = {
    {"J", emit_jump_if},
    {"CMOV", emit_cmov},
    {"SET", emit_setcc},
};
const InlineForm kConditionForms[] = {
    {"Jcc", emit_jump_if},
    {"CMOVcc", emit_cmov},
    {"SETcc", emit_setcc},
};

struct Resolved {
  const InlineForm* form = nullptr;
  Condition condition = Condition::kO;
};

// The inline form of each entry of the decoder's form table, resolved once by mnemonic.
std::vector<Resolved> resolve_all() {
  const Decoder& decoder = Decoder::instance();
  std::vector<Resolved> resolved(decoder.form_count());
  for (size_t i = 0; i < decoder.form_count(); ++i) {
    const std::string_view mnemonic = decoder.form(static_cast<uint16_t>(i)).mnemonic;
    for (const InlineForm& f : kInlineForms) {
      if (f.mnemonic == mnemonic) resolved[i].form = &f;
    }
    for (size_t family = 0; family < std::size(kConditionFamilies); ++family) {
      const std::string_view prefix = kConditionFamilies[family].prefix;
      if (!mnemonic.starts_with(prefix)) continue;
      for (size_t cc = 0; cc < kConditionSuffixes.size(); ++cc) {
        if (mnemonic.substr(prefix.size()) == kConditionSuffixes[cc]) {
          resolved[i] = Resolved{&kConditionForms[family], static_cast<Condition>(cc)};
        }
      }
    }
  }
  return resolved;
}

const Resolved& resolve(const Insn& insn) {
  static const std::vector<Resolved> resolved = resolve_all();
  static const Resolved none;
  return insn.form < resolved.size() ? resolved[insn.form] : none;
}

// A register or immediate operand the emitters load and store without touching memory.
bool register_operand(const Insn& insn, const OperandSpec& op) {
  const bool gp_size = is_gp_size(op.size) || op.kind == OperandKind::kOne;
  switch (op.kind) {
    case OperandKind::kE:
      return gp_size && !insn.has_memory;
    case OperandKind::kG:
    case OperandKind::kR:
    case OperandKind::kZ:
    case OperandKind::kAcc:
    case OperandKind::kI:
    case OperandKind::kOne:
      return gp_size;
    default:
      return false;
  }
}

}  // namespace

bool emit_inline(BlockTranslator& t) {
  const Resolved& r = resolve(t.insn());
  return r.form != nullptr && r.form->emit(t, *r.form, r.condition);
}

FlagEffect inline_flag_effect(const Insn& insn) {
  const Resolved& r = resolve(insn);
  if (r.form == nullptr || (insn.prefixes & prefix::kLock)) return FlagEffect::kOther;
  const OperandList& ops = Decoder::instance().form(insn.form).operand_list;
  auto all_registers = [&] {
    for (size_t i = 0; i < ops.count; ++i) {
      if (!register_operand(insn, ops[i])) return false;
    }
    return true;
  };
  const Emitter emit = r.form->emit;
  if (emit == emit_nothing) return FlagEffect::kPreserves;
  if (emit == emit_lea) {
    return insn.base == kRipRelative ? FlagEffect::kOther : FlagEffect::kPreserves;
  }
  if (!all_registers()) return FlagEffect::kOther;
  if (emit == emit_move && ops.count == 2) return FlagEffect::kPreserves;
  if ((emit == emit_cmov && ops.count == 2) || (emit == emit_setcc && ops.count == 1)) {
    return FlagEffect::kReads;
  }
  if (emit == emit_binary && ops.count == 2 && r.form->flag_op != FlagOp::kAdc &&
      r.form->flag_op != FlagOp::kSbb) {
    return FlagEffect::kOverwritesLive;
  }
  if (emit == emit_shift && ops.count == 2) {
    const int count = ops[1].kind == OperandKind::kOne ? 1 : static_cast<int>(insn.imm & 0xff);
    if (ops[1].kind != OperandKind::kOne && ops[1].kind != OperandKind::kI)
      return FlagEffect::kOther;
    return (count & (insn.opsize == 8 ? 63 : 31)) != 0 ? FlagEffect::kOverwritesLazy
                                                       : FlagEffect::kOther;
  }
  if (emit == emit_multiply && ops.count >= 2 && insn.opsize != 1) {
    return FlagEffect::kOverwritesLazy;
  }
  return FlagEffect::kOther;
}

}  // namespace cella::soft::jit
