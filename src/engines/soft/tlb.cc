#include "engines/soft/tlb.h"

#include <algorithm>

namespace cella::soft {

void Tlb::flush_non_global() {
  for (TlbEntry& e : entries_) {
    if (!e.global) e = TlbEntry{};
  }
  ++generation_;
}

void Tlb::flush_page(uint64_t linear) {
  auto in = [](uint64_t tag, uint64_t first, uint64_t size) {
    return tag != TlbEntry::kInvalidTag && tag - first < size;
  };
  auto holds = [&](const TlbEntry& e, uint64_t first, uint64_t size) {
    return in(e.read_tag, first, size) || in(e.write_tag, first, size) ||
           in(e.fetch_tag, first, size);
  };
  // A large page may be cached as any of its 4 KiB pieces: with large pages cached, every
  // index the largest page covering `linear` can occupy is examined, and a piece goes when its
  // own guest page covers `linear`.
  const uint64_t size = uint64_t{1} << largest_shift_;
  const uint64_t first = linear & ~(size - 1);
  const size_t count = static_cast<size_t>(std::min<uint64_t>(kEntries, size >> 12));
  for (size_t bank = 0; bank < entries_.size(); bank += kEntries) {
    for (size_t i = 0; i < count; ++i) {
      TlbEntry& e = entries_[bank + (((first >> 12) + i) & (kEntries - 1))];
      const uint64_t own_size = uint64_t{1} << e.page_shift;
      if (holds(e, linear & ~(own_size - 1), own_size)) e = TlbEntry{};
    }
  }
  ++generation_;
}

void Tlb::revoke_writes(uint64_t physical_page) {
  for (TlbEntry& e : entries_) {
    if (e.physical_page == physical_page) e.write_tag = TlbEntry::kInvalidTag;
  }
}

}  // namespace cella::soft
