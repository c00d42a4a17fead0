// AddressSpace: the guest's virtual address space. One large contiguous host range is reserved
// (PROT_NONE, MAP_NORESERVE) at start-up, and guest address g lives at host address base + g, so
// a system call's buffer translates by an addition once its pages are checked. The guest's
// memory areas (VmaMap) decide what the software CPU may read, write and execute (it is the
// CPU's PageMapper: user privilege, NX honoured, write implies read as on x86), and the host
// mappings inside the range follow them: PROT_NONE where the guest has nothing, readable where
// the guest may read or execute, writable where it may write.
//
// Every change (mmap, munmap, mprotect, mremap, brk) flushes the CPU's TLB for the range and
// invalidates the decoded code there; so does every host write into guest memory made on the
// guest's behalf (host_range(..., kWrite)).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "engines/soft/code_cache.h"
#include "engines/soft/page_mapper.h"
#include "engines/soft/tlb.h"
#include "user/vma_map.h"

namespace cella::user {

// The lowest address mmap hands out or accepts with MAP_FIXED (Linux vm.mmap_min_addr).
inline constexpr uint64_t kMinMapAddress = 0x10000;

enum class GuestAccess : uint8_t { kRead, kWrite };

// What the guest asked for in mmap(2), in its own terms.
struct MapRequest {
  uint64_t address = 0;
  uint64_t length = 0;
  uint32_t protection = 0;  // PROT_*
  uint32_t flags = 0;       // MAP_*
  int fd = -1;
  uint64_t offset = 0;
  std::string_view name;  // for /proc/self/maps: "[stack]", "[heap]"; files get their path
};

class AddressSpace final : public soft::PageMapper {
 public:
  // Reserves the largest range up to `max_size` bytes the host grants (halving on refusal,
  // e.g. under RLIMIT_AS), at least `min_size`.
  static Result<std::unique_ptr<AddressSpace>> create(uint64_t max_size = uint64_t{1} << 45,
                                                      uint64_t min_size = uint64_t{1} << 32);
  ~AddressSpace() override;
  AddressSpace(const AddressSpace&) = delete;
  AddressSpace& operator=(const AddressSpace&) = delete;

  // The CPU whose TLB and decoded code follow this address space's changes.
  void attach(soft::Tlb* tlb, soft::CodeCache* code) {
    tlb_ = tlb;
    code_ = code;
  }

  uint64_t size() const { return size_; }
  uint8_t* host(uint64_t guest) const { return base_ + guest; }
  bool contains(uint64_t guest, uint64_t length) const {
    return guest <= size_ && length <= size_ - guest;
  }
  const VmaMap& areas() const { return areas_; }

  // mmap places areas top-down below this address (the stack sits above it).
  uint64_t mmap_top() const { return mmap_top_; }
  void set_mmap_top(uint64_t top) { mmap_top_ = top; }

  // ---- The memory system calls: a guest address or 0, or -errno ----
  int64_t map(const MapRequest& request);
  int64_t unmap(uint64_t address, uint64_t length);
  int64_t protect(uint64_t address, uint64_t length, uint32_t protection);
  int64_t remap(uint64_t old_address, uint64_t old_size, uint64_t new_size, uint32_t flags,
                uint64_t new_address);

  // ---- Guest memory seen by the host (system-call buffers) ----
  // How many bytes from `guest` (up to `length`) the guest itself could access.
  uint64_t accessible(uint64_t guest, uint64_t length, GuestAccess access) const;
  // The host address of [guest, guest + length) if the guest may access all of it, else null.
  // A write range has its decoded code invalidated (the host is about to write there).
  uint8_t* host_range(uint64_t guest, uint64_t length, GuestAccess access);
  bool copy_in(void* out, uint64_t guest, uint64_t length);
  bool copy_out(uint64_t guest, const void* in, uint64_t length);
  // Reads a NUL-terminated string of at most `max` bytes: 0, -EFAULT or -ENAMETOOLONG.
  int read_string(uint64_t guest, std::string& out, size_t max = 4096) const;

  // Tells the CPU that [start, start + length) changed: TLB entries and decoded code go.
  void changed(uint64_t start, uint64_t length);

  // soft::PageMapper: user-mode translation with #PF/#GP as Linux x86-64 user space sees them.
  bool translate(soft::SoftCpu& cpu, uint64_t linear, soft::Access access,
                 soft::PageTranslation& out) override;

 private:
  AddressSpace(uint8_t* base, uint64_t size);
  // Puts [guest, guest + length) back to the reserved state (PROT_NONE, no memory).
  void reserve(uint64_t guest, uint64_t length);
  std::optional<uint64_t> place(const MapRequest& request, uint64_t length) const;
  // Maps at `target`; when `target` holds mappings, the new one is built elsewhere and moved
  // over them in one step, so a failed mmap leaves the old mapping intact.
  int64_t host_map(uint64_t target, uint64_t length, int host_prot, int host_flags, int fd,
                   uint64_t offset);
  int64_t grow_in_place(uint64_t old_address, uint64_t old_size, uint64_t new_size);
  int64_t move(uint64_t old_address, uint64_t old_size, uint64_t new_size, uint64_t target);

  uint8_t* base_;
  uint64_t size_;
  uint64_t mmap_top_;
  VmaMap areas_;
  soft::Tlb* tlb_ = nullptr;
  soft::CodeCache* code_ = nullptr;
};

// The host protection that carries out a guest protection (see the file comment).
int host_protection(uint32_t guest_protection);

inline uint64_t page_down(uint64_t value) {
  return value & ~(uint64_t{4096} - 1);
}
// Rounds up to a page; 0 when that overflows (callers treat it as too large).
inline uint64_t page_up(uint64_t value) {
  return value > ~uint64_t{0} - 4095 ? 0 : page_down(value + 4095);
}

}  // namespace cella::user
