// The software TLB: guest linear page -> host pointer, with separate tags for read, write
// and instruction-fetch permission so that one compare decides the fast path. A tag holds
// the page's linear address when the access is allowed, kInvalidTag otherwise; a page that
// holds decoded code has no write tag, so stores to it take the slow path, which invalidates
// the code (self-modifying code).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace cella::soft {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint64_t kPageOffsetMask = kPageSize - 1;

enum class Access : uint8_t { kRead, kWrite, kFetch };

struct TlbEntry {
  static constexpr uint64_t kInvalidTag = 1;  // never equal to a page-aligned address
  uint64_t read_tag = kInvalidTag;
  uint64_t write_tag = kInvalidTag;
  uint64_t fetch_tag = kInvalidTag;
  uint64_t host_minus_linear = 0;  // host address = linear address + this
  uint64_t physical_page = 0;      // guest physical page (user mode: the linear page)
  bool global = false;             // survives CR3 reloads (SDM Vol. 3A 4.10.2.4)
};

class Tlb {
 public:
  static constexpr size_t kEntries = 4096;  // direct-mapped, indexed by linear page number

  TlbEntry& entry(uint64_t linear) { return entries_[(linear >> 12) & (kEntries - 1)]; }
  const TlbEntry& entry(uint64_t linear) const { return entries_[(linear >> 12) & (kEntries - 1)]; }

  void flush_all() {
    entries_.fill(TlbEntry{});
    ++generation_;
  }
  // CR3 reload without PCID: every non-global translation goes.
  void flush_non_global();
  void flush_page(uint64_t linear);
  // Takes write permission away from every entry for a physical page (it now holds code).
  void revoke_writes(uint64_t physical_page);

  // Changes whenever translations may have changed (any flush): chained blocks re-check.
  uint64_t generation() const { return generation_; }

 private:
  std::array<TlbEntry, kEntries> entries_{};
  uint64_t generation_ = 0;
};

}  // namespace cella::soft
