// BlockTranslator's guest memory accesses: effective addresses, the inline TLB lookup with
// the interpreter's slow path behind it, and the stack.
#include <cstddef>
#include <memory>

#include "engines/soft/jit/block_translator.h"
#include "engines/soft/jit/runtime.h"

namespace cella::soft::jit {

namespace {

using Xbyak::Label;
using Xbyak::Reg64;
using Gen = Xbyak::CodeGenerator;

}  // namespace

void BlockTranslator::effective_offset_to_rsi() {
  // Flag-preserving moves and LEAs only: LEA keeps host flags live.
  const Insn& in = *insn_;
  if (in.base == kRipRelative) {
    g.mov(g.rsi, g.qword[g.rbx + layout_.rip]);
    g.lea(g.rsi, g.ptr[g.rsi + static_cast<int32_t>(offset_ + in.length + in.disp - rip_synced_)]);
  } else {
    if (in.base == kNoRegister) {
      g.mov(g.esi, 0);
    } else {
      g.mov(g.rsi, g.qword[g.rbx + layout_.gpr + in.base * 8]);
    }
    if (in.index != kNoRegister) {
      g.mov(g.rdi, g.qword[g.rbx + layout_.gpr + in.index * 8]);
      g.lea(g.rsi, g.ptr[g.rsi + g.rdi * (1 << in.scale) + in.disp]);
    } else if (in.disp != 0) {
      g.lea(g.rsi, g.ptr[g.rsi + in.disp]);
    }
  }
  if (in.prefixes & prefix::kAddr32) g.mov(g.esi, g.esi);
}

void BlockTranslator::linear_address_to_rsi() {
  effective_offset_to_rsi();
  add_segment_base(static_cast<x86::Segment>(insn_->segment));
}

// The TLB fast path of memory.h, inline: the entry of the page, its read or write tag
// compared with the page of the access's last byte (a mismatch also catches an access that
// crosses into the next page, whose entry is a different one), then the host address. A
// miss calls the interpreter's slow path; a fault runs `undo` and leaves the block at this
// instruction. RSI holds the linear address.
void BlockTranslator::access(const Access& a, const Reg64& value) {
  flags_live_ = false;
  g.mov(g.rdi, g.rsi);
  g.shr(g.rdi, 12);
  g.and_(g.edi, static_cast<uint32_t>(Tlb::kEntries - 1));
  g.imul(g.rdi, g.rdi, static_cast<int>(sizeof(TlbEntry)));
  g.add(g.rdi, g.qword[g.rbx + layout_.tlb_bank]);
  g.lea(g.r10, g.ptr[g.rsi + (a.size - 1)]);
  g.and_(g.r10, static_cast<int32_t>(~kPageOffsetMask));
  const int32_t tag = a.store ? offsetof(TlbEntry, write_tag) : offsetof(TlbEntry, read_tag);
  g.cmp(g.r10, g.qword[g.rdi + tag]);
  auto slow = std::make_shared<Label>();
  auto done = std::make_shared<Label>();
  g.jne(*slow, Gen::T_NEAR);
  g.mov(g.r10, g.qword[g.rdi + static_cast<int32_t>(offsetof(TlbEntry, host_minus_linear))]);
  const Xbyak::RegExp host = g.rsi + g.r10;
  if (a.store) {
    switch (a.size) {
      case 1:
        g.mov(g.byte[host], value.cvt8());
        break;
      case 2:
        g.mov(g.word[host], value.cvt16());
        break;
      case 4:
        g.mov(g.dword[host], value.cvt32());
        break;
      default:
        g.mov(g.qword[host], value);
        break;
    }
  } else {
    switch (a.size) {
      case 1:
        g.movzx(value.cvt32(), g.byte[host]);
        break;
      case 2:
        g.movzx(value.cvt32(), g.word[host]);
        break;
      case 4:
        g.mov(value.cvt32(), g.dword[host]);
        break;
      default:
        g.mov(value, g.qword[host]);
        break;
    }
  }
  g.L(*done);

  const uint32_t index = index_;
  const int64_t offset = offset_;
  const int64_t synced = rip_synced_;
  const int32_t rip = layout_.rip;
  const int32_t length = insn_->length;
  const uint64_t valid = reinterpret_cast<uint64_t>(&block_.valid);
  defer([=, this] {
    static constexpr int kSavedBytes = 48;  // five registers and the alignment slot
    auto fault = std::make_shared<Label>();
    g.L(*slow);
    if (a.store) g.mov(g.r11, value);
    g.push(g.rax);
    g.push(g.rcx);
    g.push(g.rdx);
    g.push(g.r8);
    g.push(g.r9);
    g.sub(g.rsp, 8);
    g.mov(g.rdi, g.rbx);
    // RSI: the linear address already.
    g.mov(g.edx, static_cast<uint32_t>(a.size));
    g.mov(g.ecx, static_cast<uint32_t>(a.segment));
    if (a.store) {
      g.mov(g.r8, g.r11);
      g.mov(g.rax, address_of(&store_slow));
      g.call(g.rax);
      g.test(g.rax, g.rax);
      g.jz(*fault, Gen::T_NEAR);
    } else {
      g.mov(g.rax, address_of(&load_slow));
      g.call(g.rax);
      g.test(g.rdx, g.rdx);
      g.jz(*fault, Gen::T_NEAR);
      g.mov(g.r11, g.rax);
    }
    auto stale = std::make_shared<Label>();
    if (a.store && a.last_effect) {
      // The store may have gone into this block's own code: leave after this instruction.
      g.mov(g.rcx, valid);
      g.cmp(g.byte[g.rcx], 0);
      g.je(*stale, Gen::T_NEAR);
    }
    g.add(g.rsp, 8);
    g.pop(g.r9);
    g.pop(g.r8);
    g.pop(g.rdx);
    g.pop(g.rcx);
    g.pop(g.rax);
    if (!a.store) g.mov(value, g.r11);
    g.jmp(*done, Gen::T_NEAR);
    if (a.store && a.last_effect) {
      g.L(*stale);
      g.add(g.rsp, kSavedBytes);
      g.add(g.qword[g.rbx + rip], static_cast<int32_t>(offset + length - synced));
      exit_with(block_result(Status::kRestart, index + 1));
    }
    g.L(*fault);
    g.add(g.rsp, kSavedBytes);
    if (a.undo) a.undo();
    if (offset != synced) g.add(g.qword[g.rbx + rip], static_cast<int32_t>(offset - synced));
    exit_with(block_result(Status::kFault, index));
  });
}

void BlockTranslator::memory_operand(int size, bool is_store, const Reg64& value) {
  linear_address_to_rsi();
  access(Access(size, is_store, insn_->segment), value);
}

void BlockTranslator::push(const Reg64& value, bool last_effect) {
  // SDM Vol. 1 6.2.5: RSP -= 8, then the store; RSP is restored if the store faults.
  const int32_t rsp = layout_.reg(kRspByteOffset);
  g.mov(g.rsi, g.qword[g.rbx + rsp]);
  g.lea(g.rsi, g.ptr[g.rsi - 8]);
  g.mov(g.qword[g.rbx + rsp], g.rsi);
  add_segment_base(x86::Segment::kSs);
  Access a(8, true, static_cast<uint8_t>(x86::Segment::kSs));
  a.last_effect = last_effect;
  a.undo = [this, rsp] { g.add(g.qword[g.rbx + rsp], 8); };
  access(a, value);
}

void BlockTranslator::pop(const Reg64& value) {
  // Loads [RSP]; the caller adds to RSP once nothing else can fault.
  g.mov(g.rsi, g.qword[g.rbx + layout_.reg(kRspByteOffset)]);
  add_segment_base(x86::Segment::kSs);
  access(Access(8, false, static_cast<uint8_t>(x86::Segment::kSs)), value);
}

void BlockTranslator::add_segment_base(x86::Segment segment) {
  g.add(g.rsi, g.qword[g.rbx + layout_.segment_base + static_cast<int>(segment) * 8]);
}

}  // namespace cella::soft::jit
