#include "engines/soft/tlb.h"

#include <algorithm>

namespace cella::soft {

TlbEntry& Tlb::entry_to_fill(uint64_t linear, uint8_t page_shift, bool global) {
  TlbEntry& e = entry(linear);
  if (!global && !non_global_overflow_) {
    if (non_global_.size() == kNonGlobalLimit) {
      non_global_overflow_ = true;
    } else {
      non_global_.push_back(static_cast<uint32_t>(&e - entries_.data()));
    }
  }
  if (page_shift > 12 && !large_pages_overflow_) {
    const uint64_t base = linear & ~((uint64_t{1} << page_shift) - 1);
    const bool known = std::any_of(large_pages_.begin(), large_pages_.end(),
                                   [&](const LargePage& p) { return p.base == base; });
    if (!known) {
      if (large_pages_.size() == kLargePageLimit) {
        large_pages_overflow_ = true;
      } else {
        large_pages_.push_back({base, page_shift});
      }
    }
  }
  return e;
}

void Tlb::flush_all() {
  entries_.fill(TlbEntry{});
  non_global_.clear();
  non_global_overflow_ = false;
  large_pages_.clear();
  large_pages_overflow_ = false;
  ++generation_;
}

void Tlb::flush_non_global() {
  if (non_global_overflow_) {
    for (TlbEntry& e : entries_) {
      if (!e.global) e = TlbEntry{};
    }
  } else {
    for (uint32_t index : non_global_) {
      if (!entries_[index].global) entries_[index] = TlbEntry{};
    }
  }
  non_global_.clear();
  non_global_overflow_ = false;
  ++generation_;
}

void Tlb::drop_pieces(uint64_t linear, uint64_t first, uint64_t size) {
  auto in = [](uint64_t tag, uint64_t start, uint64_t length) {
    return tag != TlbEntry::kInvalidTag && tag - start < length;
  };
  const size_t count = static_cast<size_t>(std::min<uint64_t>(kEntries, size >> 12));
  for (size_t bank = 0; bank < entries_.size(); bank += kEntries) {
    for (size_t i = 0; i < count; ++i) {
      TlbEntry& e = entries_[bank + (((first >> 12) + i) & (kEntries - 1))];
      const uint64_t own_size = uint64_t{1} << e.page_shift;
      const uint64_t own_first = linear & ~(own_size - 1);
      if (in(e.read_tag, own_first, own_size) || in(e.write_tag, own_first, own_size) ||
          in(e.fetch_tag, own_first, own_size)) {
        e = TlbEntry{};
      }
    }
  }
}

void Tlb::flush_page(uint64_t linear) {
  // A 4 KiB translation of `linear` can only be at its own index; a large page may be cached
  // as any of its 4 KiB pieces, at any index the large page covers.
  drop_pieces(linear, linear & ~kPageOffsetMask, kPageSize);
  if (large_pages_overflow_) {
    drop_pieces(linear, linear & ~((uint64_t{1} << 30) - 1), uint64_t{1} << 30);
  } else {
    std::erase_if(large_pages_, [&](const LargePage& p) {
      const uint64_t size = uint64_t{1} << p.shift;
      if (linear - p.base >= size) return false;
      drop_pieces(linear, p.base, size);
      return true;  // every piece of it contained `linear` and is gone
    });
  }
  ++generation_;
}

void Tlb::revoke_writes(uint64_t physical_page) {
  for (TlbEntry& e : entries_) {
    if (e.physical_page == physical_page) e.write_tag = TlbEntry::kInvalidTag;
  }
}

}  // namespace cella::soft
