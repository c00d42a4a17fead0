#include "engines/soft/jit/block_translator.h"

#include <cstddef>
#include <limits>
#include <memory>

#include "engines/soft/decoder/decoder.h"
#include "engines/soft/jit/inline_forms.h"
#include "engines/soft/jit/runtime.h"

namespace cella::soft::jit {

namespace {

using Xbyak::Label;
using Xbyak::Reg64;
using Gen = Xbyak::CodeGenerator;

bool fits_int32(int64_t value) {
  return value >= std::numeric_limits<int32_t>::min() &&
         value <= std::numeric_limits<int32_t>::max();
}

}  // namespace

CpuLayout CpuLayout::of(const SoftCpu& cpu) {
  const auto* base = reinterpret_cast<const char*>(&cpu);
  auto offset = [base](const void* field) {
    return static_cast<int32_t>(static_cast<const char*>(field) - base);
  };
  CpuLayout layout;
  layout.gpr = offset(cpu.gpr);
  layout.rip = offset(&cpu.rip);
  layout.flags = offset(&cpu.flags);
  layout.segment_base = offset(cpu.segment_base);
  layout.tlb_bank = offset(cpu.tlb.bank_pointer());
  layout.tlb_generation = offset(cpu.tlb.generation_pointer());
  layout.retired = offset(&cpu.retired);
  layout.retire_limit = offset(&cpu.retire_limit);
  layout.stop_requested = offset(&cpu.stop_requested);
  layout.interrupt_requested = offset(&cpu.interrupt_requested);
  layout.chain_request = offset(&cpu.chain_request);
  layout.code_generation = cpu.code.generation_pointer();
  layout.jump_cache = offset(cpu.jump_cache.data());
  return layout;
}

BlockTranslator::BlockTranslator(Gen& gen, const CpuLayout& layout, const Block& block)
    : g(gen), layout_(layout), block_(block) {}

size_t BlockTranslator::translate() {
  prologue();
  const size_t body = g.getSize();
  for (index_ = 0; index_ < block_.insns.size() && !ended_; ++index_) {
    translate_instruction();
    offset_ += insn_->length;
  }
  if (!ended_) {
    sync_rip(offset_);
    exit_chained(0, Status::kNext, static_cast<uint32_t>(block_.insns.size()));
  }
  while (!stubs_.empty()) {  // a stub may defer more
    std::vector<std::function<void()>> stubs = std::move(stubs_);
    stubs_.clear();
    for (const auto& stub : stubs) stub();
  }
  g.L(epilogue_);
  g.pop(g.rbx);
  g.ret();
  return body;
}

void BlockTranslator::prologue() {
  // Entry: RSP = 8 mod 16 (the return address); after the push it is 16-byte aligned.
  g.push(g.rbx);
  g.mov(g.rbx, g.rdi);
}

void BlockTranslator::translate_instruction() {
  insn_ = &block_.insns[index_];
  form_ = insn_->form == kInvalidForm ? nullptr : &Decoder::instance().form(insn_->form);
  record_dead_ = flags_overwritten_after(index_);
  if (form_ != nullptr && emit_inline(*this)) return;
  call_semantics();
}

// Whether the flags instruction `index` records are overwritten, unread, before anything
// could observe them: a following instruction overwrites all six, with only instructions
// that neither fault nor leave the block in between, none of which reads the lazy flags
// (CMOVcc and SETcc may: they read the host's flags when the producer left them live).
bool BlockTranslator::flags_overwritten_after(size_t index) const {
  const FlagEffect own = inline_flag_effect(block_.insns[index]);
  if (own != FlagEffect::kOverwritesLive && own != FlagEffect::kOverwritesLazy) return false;
  for (size_t next = index + 1; next < block_.insns.size(); ++next) {
    switch (inline_flag_effect(block_.insns[next])) {
      case FlagEffect::kOverwritesLive:
      case FlagEffect::kOverwritesLazy:
        return true;
      case FlagEffect::kPreserves:
        break;
      case FlagEffect::kReads:
        if (own != FlagEffect::kOverwritesLive) return false;
        break;
      case FlagEffect::kOther:
        return false;
    }
  }
  return false;
}

void BlockTranslator::sync_rip(int64_t offset) {
  if (offset == rip_synced_) return;
  g.add(g.qword[g.rbx + layout_.rip], static_cast<int32_t>(offset - rip_synced_));
  rip_synced_ = offset;
}

void BlockTranslator::exit_with(uint64_t result) {
  g.mov(g.eax, static_cast<uint32_t>(result));
  g.jmp(epilogue_, Gen::T_NEAR);
}

void BlockTranslator::jump_if_chain_valid(Status status, uint32_t completed, const Label& no) {
  // RCX: the Block::ChainSlot. What run() checks between blocks: the generations the link was
  // made under, the budget, and the requests of other threads (stop, interrupt).
  const uint32_t retiring = completed + (status == Status::kBranch ? 1 : 0);
  g.mov(g.rdx, g.qword[g.rbx + layout_.tlb_generation]);
  g.cmp(g.rdx, g.qword[g.rcx + static_cast<int32_t>(offsetof(Block::ChainSlot, tlb_generation))]);
  g.jne(no, Gen::T_NEAR);
  g.mov(g.rdx, reinterpret_cast<uint64_t>(layout_.code_generation));
  g.mov(g.rdx, g.qword[g.rdx]);
  g.cmp(g.rdx, g.qword[g.rcx + static_cast<int32_t>(offsetof(Block::ChainSlot, code_generation))]);
  g.jne(no, Gen::T_NEAR);
  g.mov(g.rdx, g.qword[g.rbx + layout_.retired]);
  g.add(g.rdx, retiring);
  g.cmp(g.rdx, g.qword[g.rbx + layout_.retire_limit]);
  g.jae(no, Gen::T_NEAR);
  g.cmp(g.byte[g.rbx + layout_.stop_requested], 0);
  g.jne(no, Gen::T_NEAR);
  g.cmp(g.byte[g.rbx + layout_.interrupt_requested], 0);
  g.jne(no, Gen::T_NEAR);
  g.mov(g.qword[g.rbx + layout_.retired], g.rdx);
  g.jmp(g.qword[g.rcx + static_cast<int32_t>(offsetof(Block::ChainSlot, body))]);
}

void BlockTranslator::exit_chained(int slot, Status status, uint32_t completed) {
  Label unchained;
  g.mov(g.rcx, reinterpret_cast<uint64_t>(&block_.chains[slot]));
  jump_if_chain_valid(status, completed, unchained);
  g.L(unchained);
  g.mov(g.qword[g.rbx + layout_.chain_request], g.rcx);
  exit_with(block_result(status, completed));
}

void BlockTranslator::exit_through_jump_cache(Status status, uint32_t completed) {
  // RAX: the target RIP (already in memory). The entry of SoftCpu::jump_cache for it.
  static_assert(sizeof(SoftCpu::JumpCacheEntry) == 32);
  Label miss;
  g.mov(g.rcx, g.rax);
  g.shr(g.rcx, 12);
  g.xor_(g.rcx, g.rax);
  g.and_(g.ecx, static_cast<uint32_t>(SoftCpu::kJumpCacheEntries - 1));
  g.shl(g.ecx, 5);
  g.lea(g.rcx, g.ptr[g.rbx + g.rcx + layout_.jump_cache]);
  g.cmp(g.rax, g.qword[g.rcx + static_cast<int32_t>(offsetof(SoftCpu::JumpCacheEntry, rip))]);
  g.jne(miss, Gen::T_NEAR);
  g.add(g.rcx, static_cast<int32_t>(offsetof(SoftCpu::JumpCacheEntry, chain)));
  jump_if_chain_valid(status, completed, miss);
  g.L(miss);
  exit_with(block_result(status, completed));
}

// What the interpreter's loop does for one instruction: call its semantics, continue on
// kNext, leave with the status otherwise; and leave before the next instruction if the
// semantics invalidated this block (a store into its own code).
void BlockTranslator::call_semantics() {
  sync_rip(offset_);
  g.mov(g.rdi, g.rbx);
  g.mov(g.rsi, reinterpret_cast<uint64_t>(insn_));
  g.call(g.qword[g.rsi + static_cast<int32_t>(offsetof(Insn, exec))]);
  g.test(g.al, g.al);
  auto status = std::make_shared<Label>();
  g.jnz(*status, Gen::T_NEAR);
  g.mov(g.rcx, reinterpret_cast<uint64_t>(&block_.valid));
  g.cmp(g.byte[g.rcx], 0);
  auto stale = std::make_shared<Label>();
  g.je(*stale, Gen::T_NEAR);
  flags_live_ = false;

  const uint32_t index = index_;
  const int32_t length = insn_->length;
  const int32_t rip = layout_.rip;
  defer([this, status, index] {
    g.L(*status);
    g.movzx(g.eax, g.al);
    g.or_(g.eax, index << 8);
    g.jmp(epilogue_, Gen::T_NEAR);
  });
  defer([this, stale, index, length, rip] {
    g.L(*stale);
    g.add(g.qword[g.rbx + rip], length);
    exit_with(block_result(Status::kRestart, index + 1));
  });
}

int BlockTranslator::operand_size(const OperandSpec& spec) const {
  if (const int bytes = fixed_size_bytes(spec.size)) return bytes;
  switch (spec.size) {
    case OperandSize::kV:
    case OperandSize::kZ:
    case OperandSize::kY:
      return insn_->opsize;
    default:
      return 0;
  }
}

bool BlockTranslator::in_memory(const OperandSpec& spec) const {
  return may_be_memory(spec.kind) && insn_->has_memory;
}

bool BlockTranslator::address_supported() const {
  if (insn_->base != kRipRelative) return true;
  return fits_int32(offset_ + insn_->length + insn_->disp - rip_synced_);
}

bool BlockTranslator::supported(const OperandSpec& spec) const {
  switch (spec.kind) {
    case OperandKind::kE:
      return operand_size(spec) != 0 && (!insn_->has_memory || address_supported());
    case OperandKind::kM:
      return address_supported();
    case OperandKind::kG:
    case OperandKind::kR:
    case OperandKind::kZ:
    case OperandKind::kAcc:
    case OperandKind::kI:
      return operand_size(spec) != 0;
    default:
      return false;
  }
}

void BlockTranslator::load(const OperandSpec& spec, int size, const Reg64& dst) {
  auto from_register = [&](uint8_t byte_offset) {
    const int32_t at = layout_.reg(byte_offset);
    switch (size) {
      case 1:
        g.movzx(dst.cvt32(), g.byte[g.rbx + at]);
        break;
      case 2:
        g.movzx(dst.cvt32(), g.word[g.rbx + at]);
        break;
      case 4:
        g.mov(dst.cvt32(), g.dword[g.rbx + at]);
        break;
      default:
        g.mov(dst, g.qword[g.rbx + at]);
        break;
    }
  };
  if (in_memory(spec)) {
    memory_operand(size, false, dst);
    return;
  }
  switch (spec.kind) {
    case OperandKind::kE:
    case OperandKind::kR:
    case OperandKind::kZ:
      from_register(insn_->rm);
      break;
    case OperandKind::kG:
      from_register(insn_->reg);
      break;
    case OperandKind::kAcc:
      from_register(0);
      break;
    case OperandKind::kI: {
      const uint64_t mask = size == 8 ? ~uint64_t{0} : (uint64_t{1} << (size * 8)) - 1;
      g.mov(dst, static_cast<uint64_t>(insn_->imm) & mask);
      break;
    }
    default:
      break;  // excluded by supported()
  }
}

void BlockTranslator::store_register(uint8_t byte_offset, int size, const Reg64& src) {
  const int32_t at = layout_.reg(byte_offset);
  switch (size) {
    case 1:
      g.mov(g.byte[g.rbx + at], src.cvt8());
      break;
    case 2:
      g.mov(g.word[g.rbx + at], src.cvt16());
      break;
    case 4:  // SDM Vol. 1 3.4.1.1: a 32-bit result is zero-extended to 64 bits
      g.mov(src.cvt32(), src.cvt32());
      g.mov(g.qword[g.rbx + at], src);
      break;
    default:
      g.mov(g.qword[g.rbx + at], src);
      break;
  }
}

void BlockTranslator::store(const OperandSpec& spec, int size, const Reg64& src) {
  if (in_memory(spec)) {
    memory_operand(size, true, src);
    return;
  }
  switch (spec.kind) {
    case OperandKind::kE:
    case OperandKind::kR:
    case OperandKind::kZ:
      store_register(insn_->rm, size, src);
      break;
    case OperandKind::kG:
      store_register(insn_->reg, size, src);
      break;
    case OperandKind::kAcc:
      store_register(0, size, src);
      break;
    default:
      break;  // excluded by supported()
  }
}

void BlockTranslator::record_flags(FlagOp op, int size, const Reg64& result, const Reg64& src1,
                                   const Reg64& src2) {
  if (record_dead_) return;
  g.mov(g.qword[g.rbx + layout_.flag_field(offsetof(LazyFlags, result))], result);
  g.mov(g.qword[g.rbx + layout_.flag_field(offsetof(LazyFlags, src1))], src1);
  g.mov(g.qword[g.rbx + layout_.flag_field(offsetof(LazyFlags, src2))], src2);
  static_assert(offsetof(LazyFlags, size_log2) == offsetof(LazyFlags, op) + 1);
  const uint16_t op_and_size =
      static_cast<uint16_t>(static_cast<uint8_t>(op) | (__builtin_ctz(size) << 8));
  g.mov(g.word[g.rbx + layout_.flag_field(offsetof(LazyFlags, op))], op_and_size);
}

void BlockTranslator::record_carry_in(const Reg64& carry) {
  if (record_dead_) return;
  g.mov(g.qword[g.rbx + layout_.flag_field(offsetof(LazyFlags, carry_in))], carry);
}

int BlockTranslator::condition_code(Condition condition) {
  if (flags_live_) return static_cast<int>(condition);
  g.lea(g.rdi, g.ptr[g.rbx + layout_.flags]);
  g.mov(g.esi, static_cast<uint32_t>(condition));
  g.mov(g.rax, address_of(&test_condition));
  g.call(g.rax);
  g.test(g.eax, g.eax);
  return static_cast<int>(Condition::kNe);
}

void BlockTranslator::carry_to_r8() {
  if (flags_live_) {
    g.setc(g.r8b);
    g.movzx(g.r8d, g.r8b);
    return;
  }
  g.lea(g.rdi, g.ptr[g.rbx + layout_.flags]);
  g.mov(g.rax, address_of(&carry_flag));
  g.call(g.rax);
  g.mov(g.r8, g.rax);
}

void BlockTranslator::relative_target_to_rax(int64_t displacement) {
  // Target = RIP in memory + (this instruction's offset + length + displacement - synced).
  const int64_t delta = offset_ + insn_->length + displacement - rip_synced_;
  g.mov(g.rax, g.qword[g.rbx + layout_.rip]);
  if (fits_int32(delta)) {
    g.add(g.rax, static_cast<int32_t>(delta));
  } else {
    g.mov(g.rcx, static_cast<uint64_t>(delta));
    g.add(g.rax, g.rcx);
  }
}

void BlockTranslator::check_canonical_rax() {
  // SDM Vol. 1 6.3.7: a non-canonical target raises #GP(0) at the branch.
  g.mov(g.rcx, g.rax);
  g.shl(g.rcx, 16);
  g.sar(g.rcx, 16);
  g.cmp(g.rcx, g.rax);
  auto fault = std::make_shared<Label>();
  g.jne(*fault, Gen::T_NEAR);
  const uint32_t index = index_;
  const int64_t to_instruction = offset_ - rip_synced_;
  const int32_t rip = layout_.rip;
  defer([=, this] {
    g.L(*fault);
    g.mov(g.rdi, g.rbx);
    g.mov(g.rax, address_of(&raise_general_protection));
    g.call(g.rax);
    if (to_instruction != 0) g.add(g.qword[g.rbx + rip], static_cast<int32_t>(to_instruction));
    exit_with(block_result(Status::kFault, index));
  });
}

void BlockTranslator::branch_to_rax(bool chain) {
  g.mov(g.qword[g.rbx + layout_.rip], g.rax);
  if (chain) {
    exit_chained(0, Status::kBranch, index_);
  } else {
    exit_through_jump_cache(Status::kBranch, index_);
  }
  ended_ = true;
}

void BlockTranslator::branch_relative(int64_t displacement) {
  relative_target_to_rax(displacement);
  check_canonical_rax();
  branch_to_rax(true);
}

void BlockTranslator::next_rip_to_rax() {
  g.mov(g.rax, g.qword[g.rbx + layout_.rip]);
  g.add(g.rax, static_cast<int32_t>(offset_ + insn_->length - rip_synced_));
}

void BlockTranslator::fall_through() {
  // An exit path beside the taken one: RIP in memory is not synced for the code after it.
  const int64_t delta = offset_ + insn_->length - rip_synced_;
  if (delta != 0) g.add(g.qword[g.rbx + layout_.rip], static_cast<int32_t>(delta));
  exit_chained(1, Status::kBranch, index_);
}

// One table per instruction family, indexed by the x86 condition encoding. (Plain function
// pointers: tables of member-function pointers trip UBSan's bounds check.)
void BlockTranslator::jcc(int cc, const Label& l) {
  using Jump = void (*)(Gen&, const Label&);
#define CELLA_JCC(name) [](Gen& gen, const Label& label) { gen.name(label, Gen::T_NEAR); }
  static constexpr Jump kJumps[16] = {CELLA_JCC(jo), CELLA_JCC(jno), CELLA_JCC(jb),  CELLA_JCC(jnb),
                                      CELLA_JCC(jz), CELLA_JCC(jnz), CELLA_JCC(jbe), CELLA_JCC(ja),
                                      CELLA_JCC(js), CELLA_JCC(jns), CELLA_JCC(jp),  CELLA_JCC(jnp),
                                      CELLA_JCC(jl), CELLA_JCC(jge), CELLA_JCC(jle), CELLA_JCC(jg)};
#undef CELLA_JCC
  kJumps[cc](g, l);
}

void BlockTranslator::setcc(int cc, const Xbyak::Reg8& dst) {
  using Set = void (*)(Gen&, const Xbyak::Reg8&);
#define CELLA_SETCC(name) [](Gen& gen, const Xbyak::Reg8& r) { gen.name(r); }
  static constexpr Set kSets[16] = {
      CELLA_SETCC(seto), CELLA_SETCC(setno), CELLA_SETCC(setb),  CELLA_SETCC(setnb),
      CELLA_SETCC(setz), CELLA_SETCC(setnz), CELLA_SETCC(setbe), CELLA_SETCC(seta),
      CELLA_SETCC(sets), CELLA_SETCC(setns), CELLA_SETCC(setp),  CELLA_SETCC(setnp),
      CELLA_SETCC(setl), CELLA_SETCC(setge), CELLA_SETCC(setle), CELLA_SETCC(setg)};
#undef CELLA_SETCC
  kSets[cc](g, dst);
}

void BlockTranslator::cmovcc(int cc, const Xbyak::Reg& dst, const Xbyak::Reg& src) {
  using Move = void (*)(Gen&, const Xbyak::Reg&, const Xbyak::Reg&);
#define CELLA_CMOV(name) [](Gen& gen, const Xbyak::Reg& d, const Xbyak::Reg& s) { gen.name(d, s); }
  static constexpr Move kMoves[16] = {
      CELLA_CMOV(cmovo), CELLA_CMOV(cmovno), CELLA_CMOV(cmovb),  CELLA_CMOV(cmovnb),
      CELLA_CMOV(cmovz), CELLA_CMOV(cmovnz), CELLA_CMOV(cmovbe), CELLA_CMOV(cmova),
      CELLA_CMOV(cmovs), CELLA_CMOV(cmovns), CELLA_CMOV(cmovp),  CELLA_CMOV(cmovnp),
      CELLA_CMOV(cmovl), CELLA_CMOV(cmovge), CELLA_CMOV(cmovle), CELLA_CMOV(cmovg)};
#undef CELLA_CMOV
  kMoves[cc](g, dst, src);
}

}  // namespace cella::soft::jit
