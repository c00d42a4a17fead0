#include "engines/soft/code_cache.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "engines/soft/tlb.h"

namespace cella::soft {

namespace {

// The rest of an invalidated block: leave it, at the instruction's own RIP.
Status exec_stale(SoftCpu&, const Insn&) {
  return Status::kRestart;
}

}  // namespace

TranslationPolicy TranslationPolicy::from_environment() {
  TranslationPolicy policy;
  const char* value = std::getenv("CELLA_TRANSLATE");
  if (value == nullptr || *value == '\0') return policy;
  const std::string_view text(value);
  if (text == "off") {
    policy.enabled = false;
  } else if (text == "always") {
    policy.after_runs = 0;
  } else {
    uint32_t runs = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), runs);
    if (error == std::errc() && end == text.data() + text.size()) {
      policy.after_runs = runs;
    } else {
      std::fprintf(stderr,
                   "cella: CELLA_TRANSLATE=%s is not off, always or a number of runs; "
                   "using the default\n",
                   value);
    }
  }
  return policy;
}

// Translated code of every block lives in one region; when it is full, every block goes and
// hot code is decoded and translated again.
CodeCache::CodeCache(TranslationPolicy policy)
    : policy_(policy),
      translator_(policy.enabled ? std::make_unique<jit::Translator>(policy.region_bytes)
                                 : nullptr) {}

CodeCache::~CodeCache() = default;

bool CodeCache::translate(const SoftCpu& cpu, Block& block) {
  switch (translator_->translate(cpu, block)) {
    case jit::Translator::Result::kTranslated:
      ++translated_;
      return true;
    case jit::Translator::Result::kUnavailable:
      policy_.enabled = false;
      return true;
    case jit::Translator::Result::kFull:
      break;
  }
  if (translator_->bytes_used() == 0) {  // too big for the whole region: interpret it
    block.untranslatable = true;
    return true;
  }
  ++flushes_;
  clear();
  collect();
  translator_->reset();
  return false;
}

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

void CodeCache::reset_after_fork() {
  clear();
  collect();
  if (translator_ != nullptr) translator_ = std::make_unique<jit::Translator>(policy_.region_bytes);
}

}  // namespace cella::soft
