#include "engines/soft/tlb.h"

namespace cella::soft {

void Tlb::flush_non_global() {
  for (TlbEntry& e : entries_) {
    if (!e.global) e = TlbEntry{};
  }
  ++generation_;
}

void Tlb::flush_page(uint64_t linear) {
  TlbEntry& e = entry(linear);
  const uint64_t page = linear & ~kPageOffsetMask;
  if (e.read_tag == page || e.write_tag == page || e.fetch_tag == page) e = TlbEntry{};
  ++generation_;
}

void Tlb::revoke_writes(uint64_t physical_page) {
  for (TlbEntry& e : entries_) {
    if (e.physical_page == physical_page) e.write_tag = TlbEntry::kInvalidTag;
  }
}

}  // namespace cella::soft
