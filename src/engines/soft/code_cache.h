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

namespace cella::soft {

struct Block {
  // A direct link to a block that followed this one (block chaining): valid while neither
  // translations nor decoded code have changed since it was made (`generation`).
  struct Link {
    uint64_t rip = ~uint64_t{0};
    uint64_t generation = 0;
    Block* block = nullptr;
  };

  uint64_t physical = 0;  // guest physical address of the first instruction
  uint32_t mode = 0;      // decoding mode key (CPU mode bits that change decoding)
  uint32_t bytes = 0;     // total length; a cached block never leaves its page
  bool valid = true;
  bool cacheable = true;  // false for the scratch block of a page-straddling instruction
  Link links[2];          // the last two distinct successors
  std::vector<Insn> insns;
};

class CodeCache {
 public:
  CodeCache();

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
  bool has_garbage() const { return !graveyard_.empty(); }
  // Frees invalidated blocks. Call only when no block is executing.
  void collect() { graveyard_.clear(); }
  // Changes whenever a block is invalidated: chained links re-check.
  uint64_t generation() const { return generation_; }

  size_t block_count() const { return blocks_.size(); }
  uint64_t invalidations() const { return invalidations_; }

 private:
  static constexpr size_t kFastEntries = 4096;
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

  std::array<Block*, kFastEntries> fast_{};
  std::unordered_map<Key, std::unique_ptr<Block>, KeyHash> blocks_;
  std::unordered_map<uint64_t, std::vector<Block*>> pages_;  // physical page -> its blocks
  std::vector<std::unique_ptr<Block>> graveyard_;
  uint64_t invalidations_ = 0;
  uint64_t generation_ = 0;
};

}  // namespace cella::soft
