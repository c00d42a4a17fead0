// The decoded-code cache: blocks of decoded instructions keyed by the guest physical address
// of their first byte (and the decoding mode), so hot code is decoded once. A store into a
// page that holds decoded code invalidates that page's blocks; an invalidated block that is
// still executing has its remaining instructions redirected to an exit, and is freed only
// between blocks (collect()).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "engines/soft/insn.h"
#include "engines/soft/jit/translator.h"

namespace cella::soft {

// How a block's execution ended, as the interpreter's block loop and translated code both
// report it: the Status of the instruction that ended it, and how many instructions completed
// before that one (kBranch and kExit complete their own instruction as well).
constexpr uint64_t block_result(Status status, uint32_t completed) {
  return (uint64_t{completed} << 8) | static_cast<uint8_t>(status);
}
constexpr Status result_status(uint64_t result) {
  return static_cast<Status>(result & 0xff);
}
constexpr uint64_t result_completed(uint64_t result) {
  return result >> 8;
}

// A block translated to host code: runs it on the CPU and returns its block_result.
using TranslatedBlock = uint64_t (*)(SoftCpu*);

// When the run loop translates blocks (jit/translator.h).
struct TranslationPolicy {
  bool enabled = true;
  uint32_t after_runs = 8;  // interpreted runs before a block is translated (0: at once)
  size_t region_bytes = size_t{64} << 20;  // room for translated code before a full flush

  // The default policy, changed by CELLA_TRANSLATE: "off" (interpret only), "always"
  // (translate every block at its first run) or a number of runs (docs/cpu.md).
  static TranslationPolicy from_environment();
};

struct Block {
  // The run loop's record of a block that followed this one, so that the next time control
  // goes from one to the other the lookup is skipped: valid while neither translations nor
  // decoded code have changed since it was made (`generation`).
  struct Link {
    uint64_t rip = ~uint64_t{0};
    uint64_t generation = 0;
    Block* block = nullptr;
  };
  // A direct jump from this block's translated code to a successor's (block chaining): the
  // translated exit jumps to `body` while both generations are still the ones recorded, the
  // budget is not reached and no other thread asks for the run loop, without returning to
  // it. Filled by the run loop the first time the exit is taken; slot 0: the branch taken
  // (or the block's end), slot 1: a conditional branch not taken.
  struct ChainSlot {
    uint64_t tlb_generation = ~uint64_t{0};
    uint64_t code_generation = ~uint64_t{0};
    const uint8_t* body = nullptr;
  };

  uint64_t physical = 0;  // guest physical address of the first instruction
  uint32_t mode = 0;      // decoding mode key (CPU mode bits that change decoding)
  uint32_t bytes = 0;     // total length; a cached block never leaves its page
  bool valid = true;
  bool cacheable = true;        // false for the scratch block of a page-straddling instruction
  Link links[2];                // the last two distinct successors
  uint32_t runs = 0;            // interpreted executions so far (translation policy)
  bool untranslatable = false;  // its translation does not fit even an empty region
  TranslatedBlock translated = nullptr;      // host code, once translated
  const uint8_t* translated_body = nullptr;  // its code after the prologue (chained entry)
  ChainSlot chains[2];
  std::vector<Insn> insns;  // never changes size once built (translated code points into it)
};

class CodeCache {
 public:
  explicit CodeCache(TranslationPolicy policy = TranslationPolicy::from_environment());
  ~CodeCache();

  Block* find(uint64_t physical, uint32_t mode) {
    Block* b = fast_[fast_index(physical)];
    if (b != nullptr && b->physical == physical && b->mode == mode) return b;
    return find_slow(physical, mode);
  }
  Block* insert(std::unique_ptr<Block> block);

  bool has_code(uint64_t physical_page) const { return pages_.count(physical_page) != 0; }
  // Invalidates every block on the page. Returns whether there was any.
  bool invalidate_page(uint64_t physical_page);
  // Invalidates every block on pages overlapping [physical, physical + size).
  void invalidate_range(uint64_t physical, uint64_t size);
  void clear();
  // In the child of a fork: drops every block and translation and takes a translation region
  // of its own (the region's pages are shared with the parent, which keeps writing them).
  // Call only when no block is executing.
  void reset_after_fork();
  bool has_garbage() const { return !graveyard_.empty(); }
  // Frees invalidated blocks. Call only when no block is executing.
  void collect() { graveyard_.clear(); }
  // Changes whenever a block is invalidated: chained links re-check.
  uint64_t generation() const { return generation_; }
  const uint64_t* generation_pointer() const { return &generation_; }

  // Whether the run loop should translate `block` now (counts its interpreted runs).
  bool wants_translation(Block& block) {
    return policy_.enabled && block.cacheable && !block.untranslatable &&
           ++block.runs > policy_.after_runs;
  }
  // Translates `block`. False when the translation space was full and every block was dropped
  // to make room (the caller must look its block up again); true otherwise, translated or not
  // (a host without executable memory disables translation).
  bool translate(const SoftCpu& cpu, Block& block);

  size_t block_count() const { return blocks_.size(); }
  uint64_t translated_blocks() const { return translated_; }
  uint64_t translation_flushes() const { return flushes_; }
  uint64_t invalidations() const { return invalidations_; }

 private:
  static constexpr size_t kFastEntries = 32768;
  static size_t fast_index(uint64_t physical) {
    return (physical ^ (physical >> 12)) & (kFastEntries - 1);
  }
  struct Key {
    uint64_t physical;
    uint32_t mode;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return std::hash<uint64_t>()(k.physical * 31 + k.mode);
    }
  };

  Block* find_slow(uint64_t physical, uint32_t mode);
  void retire(Block* block);

  TranslationPolicy policy_;
  std::unique_ptr<jit::Translator> translator_;
  std::array<Block*, kFastEntries> fast_{};
  std::unordered_map<Key, std::unique_ptr<Block>, KeyHash> blocks_;
  std::unordered_map<uint64_t, std::vector<Block*>> pages_;  // physical page -> its blocks
  std::vector<std::unique_ptr<Block>> graveyard_;
  uint64_t invalidations_ = 0;
  uint64_t translated_ = 0;
  uint64_t flushes_ = 0;
  uint64_t generation_ = 0;
};

}  // namespace cella::soft
