// The software TLB: guest linear page -> host pointer, with separate tags for read, write
// and instruction-fetch permission so that one compare decides the fast path. A tag holds
// the page's linear address when the access is allowed, kInvalidTag otherwise; a page that
// holds decoded code has no write tag, so stores to it take the slow path, which invalidates
// the code (self-modifying code).
//
// Two banks, one for user-mode accesses (CPL 3) and one for supervisor-mode accesses (SDM Vol.
// 3A 4.6): a translation is cached in the bank of the privilege it was checked for, so a page
// the kernel reached never answers a user access. The CPU selects the bank when CPL changes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

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
  uint8_t page_shift = 12;         // size of the guest page it came from: 12, 21 or 30
};

class Tlb {
 public:
  static constexpr size_t kEntries = 4096;  // direct-mapped, indexed by linear page number

  Tlb() = default;
  Tlb(const Tlb&) = delete;  // bank_ points into entries_
  Tlb& operator=(const Tlb&) = delete;

  TlbEntry& entry(uint64_t linear) { return bank_[(linear >> 12) & (kEntries - 1)]; }
  const TlbEntry& entry(uint64_t linear) const { return bank_[(linear >> 12) & (kEntries - 1)]; }
  // Where the current bank's first entry is recorded (translated code reads it).
  TlbEntry* const* bank_pointer() const { return &bank_; }

  // Selects the bank for user-mode (true) or supervisor-mode accesses. A change also changes
  // the generation: chained blocks were linked under the other privilege's fetch rights.
  void set_user(bool user) {
    TlbEntry* bank = entries_.data() + (user ? kEntries : 0);
    if (bank != bank_) {
      bank_ = bank;
      ++generation_;
    }
  }
  bool user() const { return bank_ != entries_.data(); }

  // The entry for `linear` in the current bank, for a fill with a translation of a guest
  // page of 2^page_shift bytes, global or not: records what the flushes below must find.
  TlbEntry& entry_to_fill(uint64_t linear, uint8_t page_shift, bool global);

  void flush_all();
  // CR3 reload without PCID: every non-global translation goes.
  void flush_non_global();
  // INVLPG: every translation of the guest page that contains `linear`, whatever its size
  // (SDM Vol. 3A 4.10.4.1), in both banks.
  void flush_page(uint64_t linear);
  // Takes write permission away from every entry for a physical page (it now holds code).
  void revoke_writes(uint64_t physical_page);

  // Changes whenever translations may have changed (any flush): chained blocks re-check.
  uint64_t generation() const { return generation_; }
  const uint64_t* generation_pointer() const { return &generation_; }

 private:
  std::array<TlbEntry, 2 * kEntries> entries_{};  // supervisor bank, then user bank
  TlbEntry* bank_ = entries_.data();              // the current privilege's half of entries_
  uint64_t generation_ = 0;

  // What the flushes visit instead of all 8192 entries (a boot reloads CR3 and runs INVLPG
  // tens of thousands of times, mostly with the kernel's global pages cached):
  // - the indices of entries filled with non-global translations, for CR3 reloads (an index
  //   may since hold a global or no translation: checked when visited);
  // - the large guest pages (2 MiB, 1 GiB) cached as 4 KiB pieces, for INVLPG: only an
  //   address inside one of them needs more than its own two entries examined.
  // Past their limits the lists are abandoned until the next flush_all, and flushes scan.
  static constexpr size_t kNonGlobalLimit = 4096;
  static constexpr size_t kLargePageLimit = 64;
  struct LargePage {
    uint64_t base;
    uint8_t shift;
  };
  std::vector<uint32_t> non_global_;
  bool non_global_overflow_ = false;
  std::vector<LargePage> large_pages_;
  bool large_pages_overflow_ = false;

  // Drops every piece cached in [first, first + size) in both banks whose own guest page
  // contains `linear`.
  void drop_pieces(uint64_t linear, uint64_t first, uint64_t size);
};

}  // namespace cella::soft
