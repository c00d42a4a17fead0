#include "engines/soft/code_cache.h"

#include <algorithm>

#include "engines/soft/tlb.h"

namespace cella::soft {

namespace {

// The rest of an invalidated block: leave it, at the instruction's own RIP.
Status exec_stale(SoftCpu&, const Insn&) {
  return Status::kRestart;
}

}  // namespace

CodeCache::CodeCache() = default;

Block* CodeCache::find_slow(uint64_t physical, uint32_t mode) {
  auto it = blocks_.find(Key{physical, mode});
  if (it == blocks_.end()) return nullptr;
  fast_[fast_index(physical)] = it->second.get();
  return it->second.get();
}

Block* CodeCache::insert(std::unique_ptr<Block> block) {
  Block* raw = block.get();
  const uint64_t first_page = raw->physical & ~kPageOffsetMask;
  pages_[first_page].push_back(raw);
  fast_[fast_index(raw->physical)] = raw;
  auto [it, inserted] = blocks_.try_emplace(Key{raw->physical, raw->mode}, std::move(block));
  if (!inserted) {  // replace a block for the same key (not normally reached)
    retire(it->second.get());
    it->second = std::move(block);
  }
  return raw;
}

void CodeCache::retire(Block* block) {
  ++generation_;
  block->valid = false;
  for (Insn& insn : block->insns) insn.exec = &exec_stale;
  if (fast_[fast_index(block->physical)] == block) fast_[fast_index(block->physical)] = nullptr;
}

bool CodeCache::invalidate_page(uint64_t physical_page) {
  auto page = pages_.find(physical_page);
  if (page == pages_.end()) return false;
  for (Block* block : page->second) {
    retire(block);
    auto it = blocks_.find(Key{block->physical, block->mode});
    if (it != blocks_.end() && it->second.get() == block) {
      graveyard_.push_back(std::move(it->second));
      blocks_.erase(it);
    }
  }
  pages_.erase(page);
  ++invalidations_;
  return true;
}

void CodeCache::invalidate_range(uint64_t physical, uint64_t size) {
  if (size == 0 || pages_.empty()) return;
  const uint64_t first = physical & ~kPageOffsetMask;
  const uint64_t last = (physical + size - 1) & ~kPageOffsetMask;
  if ((last - first) / kPageSize >= pages_.size()) {
    // A large range (munmap of a big mapping): visit the pages that have code instead.
    std::vector<uint64_t> doomed;
    for (const auto& [page, blocks] : pages_) {
      if (page >= first && page <= last) doomed.push_back(page);
    }
    for (uint64_t page : doomed) invalidate_page(page);
    return;
  }
  for (uint64_t page = first;; page += kPageSize) {
    invalidate_page(page);
    if (page == last) break;
  }
}

void CodeCache::clear() {
  for (auto& [key, block] : blocks_) {
    retire(block.get());
    graveyard_.push_back(std::move(block));
  }
  blocks_.clear();
  pages_.clear();
  fast_.fill(nullptr);
  ++generation_;
}

}  // namespace cella::soft
