#include "user/address_space.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "cpu/x86/exceptions.h"
#include "engines/soft/cpu.h"

namespace cella::user {

namespace {

constexpr int kReservedFlags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED;

}  // namespace

int host_protection(uint32_t guest_protection) {
  int host = PROT_NONE;
  if (guest_protection & (prot::kRead | prot::kWrite | prot::kExec)) host |= PROT_READ;
  if (guest_protection & prot::kWrite) host |= PROT_WRITE;
  return host;
}

Result<std::unique_ptr<AddressSpace>> AddressSpace::create(uint64_t max_size, uint64_t min_size) {
  for (uint64_t size = max_size; size >= min_size; size /= 2) {
    void* base = mmap(nullptr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base != MAP_FAILED) {
      return std::unique_ptr<AddressSpace>(new AddressSpace(static_cast<uint8_t*>(base), size));
    }
  }
  return errno_error(
      fmt::format("cannot reserve {} GiB of address space for the guest", min_size >> 30));
}

AddressSpace::AddressSpace(uint8_t* base, uint64_t size)
    : base_(base), size_(size), mmap_top_(size) {}

AddressSpace::~AddressSpace() {
  munmap(base_, size_);
}

void AddressSpace::reserve(uint64_t guest, uint64_t length) {
  mmap(host(guest), length, PROT_NONE, kReservedFlags, -1, 0);
}

void AddressSpace::changed(uint64_t start, uint64_t length) {
  if (length == 0) return;
  if (tlb_ != nullptr) {
    constexpr uint64_t kPageFlushLimit = 64;
    if (length / soft::kPageSize > kPageFlushLimit) {
      tlb_->flush_all();
    } else {
      for (uint64_t page = page_down(start); page < start + length; page += soft::kPageSize) {
        tlb_->flush_page(page);
      }
    }
  }
  if (code_ != nullptr) code_->invalidate_range(start, length);
}

uint64_t AddressSpace::accessible(uint64_t guest, uint64_t length, GuestAccess access) const {
  uint64_t done = 0;
  while (done < length) {
    const Vma* vma = areas_.find(guest + done);
    if (vma == nullptr) break;
    const uint32_t needed = access == GuestAccess::kWrite
                                ? prot::kWrite
                                : prot::kRead | prot::kWrite | prot::kExec;  // x86: all readable
    const bool allowed = (vma->protection & needed) != 0;
    if (!allowed) break;
    done = std::min(length, vma->end - guest);
  }
  return done;
}

uint8_t* AddressSpace::host_range(uint64_t guest, uint64_t length, GuestAccess access) {
  if (length == 0) return host(guest < size_ ? guest : 0);
  if (!contains(guest, length) || accessible(guest, length, access) != length) return nullptr;
  // The host is about to write there: decoded code goes (translations stay valid).
  if (access == GuestAccess::kWrite && code_ != nullptr) code_->invalidate_range(guest, length);
  return host(guest);
}

bool AddressSpace::copy_in(void* out, uint64_t guest, uint64_t length) {
  const uint8_t* p = host_range(guest, length, GuestAccess::kRead);
  if (p == nullptr) return false;
  memcpy(out, p, length);
  return true;
}

bool AddressSpace::copy_out(uint64_t guest, const void* in, uint64_t length) {
  uint8_t* p = host_range(guest, length, GuestAccess::kWrite);
  if (p == nullptr) return false;
  memcpy(p, in, length);
  return true;
}

int AddressSpace::read_string(uint64_t guest, std::string& out, size_t max) const {
  out.clear();
  uint64_t at = guest;
  while (out.size() < max) {
    const uint64_t page_end = page_down(at) + soft::kPageSize;
    if (accessible(at, 1, GuestAccess::kRead) == 0) return -EFAULT;
    const char* p = reinterpret_cast<const char*>(host(at));
    const size_t chunk = std::min<uint64_t>(page_end - at, max - out.size());
    const size_t n = strnlen(p, chunk);
    out.append(p, n);
    if (n < chunk) return 0;
    at += chunk;
  }
  return -ENAMETOOLONG;
}

bool AddressSpace::translate(soft::SoftCpu& cpu, uint64_t linear, soft::Access access,
                             soft::PageTranslation& out) {
  if (!soft::is_canonical(linear)) [[unlikely]] {
    // SDM Vol. 3A 6.15, #GP: a non-canonical memory reference (Linux: SIGSEGV, SI_KERNEL).
    cpu.fault = x86::Fault{x86::Vector::kGeneralProtection, true, 0, 0};
    return false;
  }
  const uint64_t page = linear & ~soft::kPageOffsetMask;
  const Vma* vma = areas_.find(page);
  const uint32_t p = vma != nullptr ? vma->protection : 0;
  // x86 paging (SDM Vol. 3A 4.6): a present user page is readable; write needs R/W, fetch
  // needs XD clear. Linux maps PROT_WRITE and PROT_EXEC pages readable.
  const bool present = (p & (prot::kRead | prot::kWrite | prot::kExec)) != 0;
  const bool allowed = present && (access != soft::Access::kWrite || (p & prot::kWrite)) &&
                       (access != soft::Access::kFetch || (p & prot::kExec));
  if (!allowed) {
    // SDM Vol. 3A 4.7, Figure 4-12: the page-fault error code of a user-mode access.
    uint32_t code = x86::pf_error::kUser;
    if (present) code |= x86::pf_error::kPresent;
    if (access == soft::Access::kWrite) code |= x86::pf_error::kWrite;
    if (access == soft::Access::kFetch) code |= x86::pf_error::kInstructionFetch;
    cpu.fault = x86::Fault{x86::Vector::kPageFault, true, code, linear};
    return false;
  }
  out.host_page = host(page);
  out.physical_page = page;
  out.writable = (p & prot::kWrite) != 0;
  out.executable = (p & prot::kExec) != 0;
  out.global = false;
  return true;
}

}  // namespace cella::user
