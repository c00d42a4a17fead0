// BlockTranslator: turns one decoded block into host x86-64 code.
//
// The guest state stays where the interpreter keeps it (SoftCpu's registers, RIP and lazy
// flags in memory), so translated and interpreted code interleave freely, instruction by
// instruction: every instruction the translator knows (inline_forms.cc) becomes inline host
// code that loads its operands, computes, stores the result and records the flags exactly as
// the interpreter's semantics would; every other instruction becomes a call of its
// semantics function (insn.exec), as the interpreter's dispatch loop would make it.
//
// Conventions of the generated code:
//   - RBX holds the SoftCpu*; RAX, RCX, RDX, RSI, RDI, R8-R11 are scratch within one
//     instruction. The stack is 16-byte aligned at every call.
//   - RIP in memory is updated lazily: the translator knows at translation time how far the
//     value in memory is behind each instruction (rip_synced_) and adds the difference only
//     where something reads it (a semantics call, an exit), so straight-line inline code does
//     not touch it. Blocks are position-independent, like decoded blocks: RIP-relative values
//     are computed from RIP in memory at run time.
//   - Host RFLAGS are "live" after an inline ADD/SUB/CMP/logic operation until something
//     clobbers them: a following Jcc/CMOVcc/SETcc then uses the host's condition codes, which
//     for these operations are exactly the guest's. Otherwise conditions are evaluated from
//     the lazy flags by a call.
//   - A block returns block_result(status, completed) (code_cache.h), as the interpreter's
//     block loop does.
#pragma once

#include <xbyak/xbyak.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "engines/soft/code_cache.h"
#include "engines/soft/cpu.h"
#include "engines/soft/decoder/form.h"

namespace cella::soft::jit {

// Byte offsets into SoftCpu of the state translated code touches, measured on an instance
// (SoftCpu is not standard-layout, so offsetof does not apply).
struct CpuLayout {
  int32_t gpr = 0;
  int32_t rip = 0;
  int32_t flags = 0;
  int32_t segment_base = 0;
  int32_t tlb_bank = 0;  // Tlb::bank_pointer(): TlbEntry* of the current privilege's bank
  int32_t tlb_generation = 0;
  int32_t retired = 0;
  int32_t retire_limit = 0;
  int32_t stop_requested = 0;
  int32_t interrupt_requested = 0;
  int32_t chain_request = 0;
  int32_t jump_cache = 0;
  const uint64_t* code_generation = nullptr;  // the CPU's code cache's (an address)

  static CpuLayout of(const SoftCpu& cpu);
  int32_t reg(uint8_t byte_offset) const { return gpr + byte_offset; }
  int32_t flag_field(size_t offset_in_lazy_flags) const {
    return flags + static_cast<int32_t>(offset_in_lazy_flags);
  }
};

class BlockTranslator {
 public:
  using Gen = Xbyak::CodeGenerator;

  BlockTranslator(Gen& gen, const CpuLayout& layout, const Block& block);
  // Emits the whole block: prologue, each instruction, the fall-through exit and the stubs.
  // Returns the offset of the code after the prologue (the chained entry).
  size_t translate();

  // ---- For the inline forms (inline_forms.cc) ----
  Gen& g;
  const Insn& insn() const { return *insn_; }
  const FormSpec& form() const { return *form_; }
  bool is_last() const { return index_ + 1 == block_.insns.size(); }

  // Operand size in bytes of an operand of the current instruction (0: not a GP size).
  int operand_size(const OperandSpec& spec) const;
  // Whether load()/store() can handle this operand of the current instruction inline.
  bool supported(const OperandSpec& spec) const;
  bool in_memory(const OperandSpec& spec) const;
  // Loads the operand, zero-extended from `size` bytes, into `dst` (RAX, RCX or R9).
  void load(const OperandSpec& spec, int size, const Xbyak::Reg64& dst);
  // Stores the low `size` bytes of `src` (a 4-byte store zero-extends the register).
  void store(const OperandSpec& spec, int size, const Xbyak::Reg64& src);
  // The offset in SoftCpu of a general-purpose register's byte (operand coding, insn.h).
  int32_t gpr_offset(uint8_t byte_offset) const { return layout_.reg(byte_offset); }
  // Stores the low `size` bytes of `src` into the general-purpose register at byte offset.
  void store_register(uint8_t byte_offset, int size, const Xbyak::Reg64& src);
  // RSI = the effective address (offset within the segment) of the memory operand.
  void effective_offset_to_rsi();
  bool address_supported() const;

  // Records the lazy flags as LazyFlags::record does (operation, operand size, result and
  // sources), with flag-preserving moves only.
  void record_flags(FlagOp op, int size, const Xbyak::Reg64& result, const Xbyak::Reg64& src1,
                    const Xbyak::Reg64& src2);
  void record_carry_in(const Xbyak::Reg64& carry);
  // The host condition code that tests `condition` now: the guest's own encoding when host
  // flags are live, else NE after a call that evaluates the lazy flags (clobbers scratch).
  int condition_code(Condition condition);
  // R8 = CF (0 or 1) of the guest flags (clobbers scratch, except when host flags are live).
  void carry_to_r8();
  void set_flags_live(bool live) { flags_live_ = live; }

  // Ends the block at the current (last) instruction with a relative control transfer:
  // RIP = this instruction's RIP + length + displacement, checked canonical.
  void branch_relative(int64_t displacement);
  // The pieces of control transfers: RAX = the relative target, or the next instruction's
  // RIP; #GP(0) unless RAX is canonical; RIP = RAX, ending the block.
  void relative_target_to_rax(int64_t displacement);
  void next_rip_to_rax();
  void check_canonical_rax();
  // `chain`: the target is a constant of this block (a relative branch), so the exit may
  // jump straight to the successor's translation (Block::ChainSlot 0); otherwise the exit
  // looks the target up in the CPU's jump cache.
  void branch_to_rax(bool chain);

  // The stack (SDM Vol. 1 6.2.5, 64-bit pushes and pops through SS). push(): RSP -= 8 and
  // store `value` (RAX..R9); a fault restores RSP. `last_effect`: nothing of the instruction
  // follows the store (so a store into this block's code can leave right after it).
  // pop(): `value` = [RSP]; RSP is unchanged (the caller adds to it).
  void push(const Xbyak::Reg64& value, bool last_effect);
  void pop(const Xbyak::Reg64& value);
  static constexpr uint8_t kRspByteOffset = 4 * 8;
  // Leaves the block with RIP = the next instruction (a conditional branch not taken); the
  // code after it (the taken path) still sees the translator's RIP bookkeeping unchanged.
  void fall_through();

  // Host condition code tables (index: x86 condition encoding, SDM Vol. 1 Appendix B).
  void jcc(int cc, const Xbyak::Label& label);
  void setcc(int cc, const Xbyak::Reg8& dst);
  void cmovcc(int cc, const Xbyak::Reg& dst, const Xbyak::Reg& src);

 private:
  void prologue();
  void translate_instruction();
  void call_semantics();
  bool flags_overwritten_after(size_t index) const;
  void sync_rip(int64_t offset);
  void exit_with(uint64_t result);
  // Leaves the block with `status` after `completed` instructions, RIP already set, through
  // chain slot `slot`: to the successor's translation when the slot is valid and nothing
  // asks the run loop back, else to the run loop (which fills the slot).
  void exit_chained(int slot, Status status, uint32_t completed);
  // Leaves the block to RIP = RAX, a target known only at run time (RET): through the CPU's
  // jump cache to that block's translation when the entry matches and is valid, else to the
  // run loop.
  void exit_through_jump_cache(Status status, uint32_t completed);
  // RCX: a chain slot. Jumps to its translation when it is valid now (generations, budget,
  // requests; RETIRED is advanced), else falls through to `no`'s jump.
  void jump_if_chain_valid(Status status, uint32_t completed, const Xbyak::Label& no);
  struct Access {
    Access(int bytes, bool is_store, uint8_t segment_index)
        : size(bytes), store(is_store), segment(segment_index) {}
    int size;
    bool store;
    uint8_t segment;             // x86::Segment of the address (SS: #GP becomes #SS)
    bool last_effect = true;     // store: may leave after it when it invalidated this block
    std::function<void()> undo;  // emitted on the fault path, before leaving
  };
  // The access at the linear address in RSI, through the TLB.
  void access(const Access& a, const Xbyak::Reg64& value);
  // The current instruction's ModRM memory operand.
  void memory_operand(int size, bool is_store, const Xbyak::Reg64& value);
  void linear_address_to_rsi();
  void add_segment_base(x86::Segment segment);
  // An out-of-line path, emitted after the block's code.
  void defer(std::function<void()> emit) { stubs_.push_back(std::move(emit)); }

  const CpuLayout& layout_;
  const Block& block_;
  const Insn* insn_ = nullptr;
  const FormSpec* form_ = nullptr;
  uint32_t index_ = 0;
  int64_t offset_ = 0;        // this instruction's offset from the block's first byte
  int64_t rip_synced_ = 0;    // RIP in memory = block start + rip_synced_
  bool flags_live_ = false;   // host RFLAGS hold the guest's status flags
  bool record_dead_ = false;  // this instruction's flag record is overwritten unread
  bool ended_ = false;        // an inline branch ended the block
  Xbyak::Label epilogue_;
  std::vector<std::function<void()>> stubs_;
};

}  // namespace cella::soft::jit
