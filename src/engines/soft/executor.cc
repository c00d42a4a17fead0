// The run loop: find (or decode) the block at RIP, execute its instructions through their
// semantics' function pointers, and act on what they return.
#include <cstring>

#include "engines/soft/cpu.h"
#include "engines/soft/decoder/decoder.h"

namespace cella::soft {

namespace {

constexpr size_t kMaxBlockInstructions = 64;

// The executable stand-in for bytes that do not decode.
Status exec_invalid(SoftCpu& cpu, const Insn&) {
  return cpu.raise(x86::Vector::kInvalidOpcode);
}
Status exec_too_long(SoftCpu& cpu, const Insn&) {
  return cpu.raise(x86::Vector::kGeneralProtection, 0);
}

Insn invalid_insn(DecodeResult::Kind kind) {
  Insn insn;
  insn.exec = kind == DecodeResult::Kind::kTooLong ? &exec_too_long : &exec_invalid;
  insn.form = kInvalidForm;
  insn.length = 1;
  return insn;
}

}  // namespace

Block* SoftCpu::build_block(uint64_t linear, const PageTranslation& page) {
  const Decoder& decoder = Decoder::instance();
  auto block = std::make_unique<Block>();
  block->physical = page.physical_page | (linear & kPageOffsetMask);
  size_t offset = linear & kPageOffsetMask;
  while (block->insns.size() < kMaxBlockInstructions) {
    const uint8_t* bytes = page.host_page + offset;
    const size_t available = kPageSize - offset;
    DecodeResult decoded = decoder.decode(bytes, available);
    if (decoded.kind == DecodeResult::Kind::kNeedMoreBytes) {
      if (!block->insns.empty()) break;  // end the block before the page-straddling instruction
      // A lone instruction across two pages: decode it from both pages, uncached.
      uint8_t window[kMaxInstructionLength];
      std::memcpy(window, bytes, available);
      PageTranslation next;
      const uint64_t next_linear = linear + available;
      if (!translate(next_linear, Access::kFetch, next)) return nullptr;
      if (next.host_page == nullptr) {
        exit_reason = ExitReason::kMmioFetch;
        return nullptr;
      }
      std::memcpy(window + available, next.host_page, kMaxInstructionLength - available);
      decoded = decoder.decode(window, kMaxInstructionLength);
      scratch_.insns.assign(
          1, decoded.kind == DecodeResult::Kind::kOk ? decoded.insn : invalid_insn(decoded.kind));
      scratch_.physical = block->physical;
      scratch_.bytes = scratch_.insns[0].length;
      scratch_.cacheable = false;
      return &scratch_;
    }
    if (decoded.kind != DecodeResult::Kind::kOk) {
      block->insns.push_back(invalid_insn(decoded.kind));
      break;
    }
    block->insns.push_back(decoded.insn);
    offset += decoded.insn.length;
    if (Decoder::instance().form(decoded.insn.form).has(attr::kEndsBlock)) break;
    if (offset >= kPageSize) break;
  }
  block->bytes = static_cast<uint32_t>(offset - (linear & kPageOffsetMask));
  // Stores into this page must now take the slow path that invalidates its code. Only the
  // page's first block needs to revoke: while the page holds code, TLB fills give it no write
  // permission (fill()).
  const bool first_code_on_page = !code.has_code(page.physical_page);
  Block* inserted = code.insert(std::move(block));
  if (first_code_on_page) tlb.revoke_writes(page.physical_page);
  return inserted;
}

Block* SoftCpu::block_at(uint64_t linear) {
  const TlbEntry& e = tlb.entry(linear);
  const uint64_t page = linear & ~kPageOffsetMask;
  if (e.fetch_tag == page) [[likely]] {
    if (Block* block = code.find(e.physical_page | (linear & kPageOffsetMask), 0)) return block;
  }
  PageTranslation translation;
  if (!translate(linear, Access::kFetch, translation)) return nullptr;
  if (translation.host_page == nullptr) {
    exit_reason = ExitReason::kMmioFetch;
    return nullptr;
  }
  const uint64_t physical = translation.physical_page | (linear & kPageOffsetMask);
  if (Block* block = code.find(physical, 0)) return block;
  return build_block(linear, translation);
}

// Links `next` as a successor of `previous` (most recent first), so the next time control
// goes from one to the other the block lookup is skipped.
static void link(Block& previous, Block& next, uint64_t rip, uint64_t generation) {
  if (!previous.cacheable || !next.cacheable) return;
  if (previous.links[0].rip != rip || previous.links[0].generation != generation) {
    previous.links[1] = previous.links[0];
  }
  previous.links[0] = Block::Link{rip, generation, &next};
}

// Runs the block's instructions through their semantics until one does not return kNext or
// the block ends (RIP advances past each kNext instruction).
uint64_t SoftCpu::interpret(const Block& block) {
  const Insn* const first = block.insns.data();
  const Insn* const end = first + block.insns.size();
  for (const Insn* insn = first; insn != end; ++insn) {
    const Status status = insn->exec(*this, *insn);
    if (status != Status::kNext) [[unlikely]] {
      return block_result(status, static_cast<uint32_t>(insn - first));
    }
    rip += insn->length;
  }
  return block_result(Status::kNext, static_cast<uint32_t>(end - first));
}

ExitReason SoftCpu::run(uint64_t budget) {
  const uint64_t limit = budget > ~uint64_t{0} - retired ? ~uint64_t{0} : retired + budget;
  if (shutdown_pending_) [[unlikely]] {
    shutdown_pending_ = false;
    return ExitReason::kTripleFault;
  }
  retire_limit = limit;
  Block* previous = nullptr;
  Block::ChainSlot* unfilled = nullptr;  // the chain slot of the exit the last block took
  for (;;) {
    if (retired >= limit) return ExitReason::kBudget;
    if (stop_requested.load(std::memory_order_relaxed)) [[unlikely]] {
      stop_requested.store(false, std::memory_order_relaxed);
      return ExitReason::kStopRequest;
    }
    if (interrupt_requested.load(std::memory_order_relaxed) && interruptible()) [[unlikely]] {
      return ExitReason::kInterruptWindow;
    }
    if (code.has_garbage()) [[unlikely]] {
      code.collect();
      previous = nullptr;
      unfilled = nullptr;  // its block may be gone
    }
    uint64_t generation = tlb.generation() + code.generation();
    Block* block = nullptr;
    if (previous != nullptr) {
      for (const Block::Link& l : previous->links) {
        if (l.rip == rip && l.generation == generation) {
          block = l.block;
          break;
        }
      }
    }
    if (block == nullptr) {
      exit_reason = ExitReason::kFault;
      block = block_at(rip);
      if (block == nullptr) {  // instruction fetch faulted, or fetch from MMIO
        if (exit_reason != ExitReason::kFault || !environment.deliver_exceptions) {
          return exit_reason;
        }
        if (!deliver_exception()) return ExitReason::kTripleFault;
        previous = nullptr;
        continue;
      }
      generation = tlb.generation() + code.generation();
      if (previous != nullptr) link(*previous, *block, rip, generation);
    }
    if (block->translated == nullptr && code.wants_translation(*block)) {
      if (!code.translate(*this, *block)) {  // every block was dropped to make room
        previous = nullptr;
        unfilled = nullptr;
        continue;
      }
    }
    if (unfilled != nullptr) {  // chain the last translated block's exit to this one
      if (block->translated != nullptr) {
        *unfilled = Block::ChainSlot{tlb.generation(), code.generation(), block->translated_body};
      }
      unfilled = nullptr;
    }
    ++dispatches;
    uint64_t result;
    if (block->translated != nullptr) {
      jump_cache[jump_cache_index(rip)] = JumpCacheEntry{
          rip, Block::ChainSlot{tlb.generation(), code.generation(), block->translated_body}};
      chain_request = nullptr;
      result = block->translated(this);
      unfilled = chain_request;
    } else {
      result = interpret(*block);
    }
    retired += result_completed(result);
    switch (result_status(result)) {
      case Status::kNext:
      case Status::kRestart:
        break;
      case Status::kBranch:
        ++retired;
        break;
      case Status::kFault:
        if (!environment.deliver_exceptions) return ExitReason::kFault;
        if (!deliver_exception()) return ExitReason::kTripleFault;
        break;
      case Status::kExit:
        ++retired;  // the instruction completed
        return exit_reason;
    }
    previous = block;
  }
}

}  // namespace cella::soft
