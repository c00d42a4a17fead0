// The memory system calls of the guest address space: mmap, munmap, mprotect and mremap on
// the reserved host range, kept in step with the VmaMap (address_space.h).
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "user/address_space.h"

namespace cella::user {
namespace {

// Host mmap flags a guest may pass through unchanged (mmap(2)); placement flags
// (MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_32BIT) are emulated, and hints never reach the host.
constexpr uint32_t kPassedMapFlags = MAP_TYPE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_POPULATE |
                                     MAP_NONBLOCK | MAP_LOCKED | MAP_HUGETLB | MAP_SYNC |
                                     (0x3fu << MAP_HUGE_SHIFT);
// Accepted without effect: a growing stack is an ordinary mapping here (docs/user-mode.md).
constexpr uint32_t kIgnoredMapFlags = MAP_GROWSDOWN | MAP_STACK | MAP_DENYWRITE | MAP_EXECUTABLE;
constexpr uint32_t kKnownMapFlags =
    kPassedMapFlags | kIgnoredMapFlags | MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_32BIT;
// Linux: MAP_32BIT places mappings in the second GiB (arch/x86/kernel/sys_x86_64.c).
constexpr uint64_t kMap32Low = 0x40000000, kMap32High = 0x80000000;

std::string fd_path(int fd) {
  char link[64], path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, path, sizeof path - 1);
  return n > 0 ? std::string(path, static_cast<size_t>(n)) : std::string();
}

}  // namespace

std::optional<uint64_t> AddressSpace::place(const MapRequest& request, uint64_t length) const {
  if (request.flags & MAP_32BIT) return areas_.find_free(length, kMap32Low, kMap32High);
  // A hint is honoured when the range is free (mmap(2)); otherwise placement is top-down.
  const uint64_t hint = page_down(request.address);
  if (hint >= kMinMapAddress && contains(hint, length) && !areas_.overlaps(hint, hint + length)) {
    return hint;
  }
  if (auto below = areas_.find_free(length, kMinMapAddress, mmap_top_)) return below;
  return areas_.find_free(length, kMinMapAddress, size_);
}

int64_t AddressSpace::host_map(uint64_t target, uint64_t length, int host_prot, int host_flags,
                               int fd, uint64_t offset) {
  const bool replaces = areas_.overlaps(target, target + length);
  std::optional<uint64_t> scratch;
  if (replaces) scratch = areas_.find_free(length, kMinMapAddress, size_, false);
  const uint64_t first = scratch ? *scratch : target;
  void* p =
      mmap(host(first), length, host_prot, host_flags | MAP_FIXED, fd, static_cast<off_t>(offset));
  if (p == MAP_FAILED) {
    const int error = errno;
    reserve(first, length);
    if (!scratch && replaces) {  // the host may have dropped the old mapping: so do we
      areas_.remove(target, target + length);
      changed(target, length);
    }
    return -error;
  }
  if (scratch) {
    if (mremap(host(first), length, length, MREMAP_MAYMOVE | MREMAP_FIXED, host(target)) ==
        MAP_FAILED) {
      const int error = errno;
      reserve(first, length);
      return -error;
    }
    reserve(first, length);
  }
  return 0;
}

int64_t AddressSpace::map(const MapRequest& request) {
  const uint32_t type = request.flags & MAP_TYPE;
  if (request.length == 0) return -EINVAL;
  if (type != MAP_SHARED && type != MAP_PRIVATE && type != MAP_SHARED_VALIDATE) return -EINVAL;
  // mmap(2): unknown flags fail only with MAP_SHARED_VALIDATE; otherwise they are ignored.
  if ((request.flags & ~kKnownMapFlags) && type == MAP_SHARED_VALIDATE) return -EOPNOTSUPP;
  const uint32_t flags = request.flags & kKnownMapFlags;
  if (request.protection & ~(prot::kRead | prot::kWrite | prot::kExec)) return -EINVAL;
  const bool anonymous = (flags & MAP_ANONYMOUS) != 0;
  if (!anonymous && (request.offset % soft::kPageSize) != 0) return -EINVAL;
  const uint64_t length = page_up(request.length);
  if (length == 0 || length > size_) return -ENOMEM;
  if (!anonymous && request.offset + length < request.offset) return -EOVERFLOW;

  uint64_t target;
  if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
    target = request.address;
    if (target % soft::kPageSize) return -EINVAL;
    if (!contains(target, length)) return -ENOMEM;
    if (target < kMinMapAddress) return -EPERM;  // security_mmap_addr: below mmap_min_addr
    if ((flags & MAP_FIXED_NOREPLACE) && areas_.overlaps(target, target + length)) return -EEXIST;
  } else {
    auto placed = place(request, length);
    if (!placed) return -ENOMEM;
    target = *placed;
  }

  Vma vma;
  if (!anonymous) {
    struct stat st;
    if (fstat(request.fd, &st) != 0) return -errno;
    vma.anonymous = false;
    vma.offset = request.offset;
    vma.device = st.st_dev;
    vma.inode = st.st_ino;
    vma.name = request.name.empty() ? fd_path(request.fd) : std::string(request.name);
  } else {
    vma.name = std::string(request.name);
  }
  const int host_flags = static_cast<int>(flags & kPassedMapFlags);
  if (const int64_t error =
          host_map(target, length, host_protection(request.protection), host_flags,
                   anonymous ? -1 : request.fd, anonymous ? 0 : request.offset)) {
    return error;
  }
  vma.start = target;
  vma.end = target + length;
  vma.protection = request.protection;
  vma.shared = type != MAP_PRIVATE;
  areas_.insert(std::move(vma));
  changed(target, length);
  return static_cast<int64_t>(target);
}

int64_t AddressSpace::unmap(uint64_t address, uint64_t length) {
  if (address % soft::kPageSize) return -EINVAL;
  length = page_up(length);
  if (length == 0 || !contains(address, length)) return -EINVAL;
  if (!areas_.overlaps(address, address + length)) return 0;
  reserve(address, length);
  areas_.remove(address, address + length);
  changed(address, length);
  return 0;
}

int64_t AddressSpace::protect(uint64_t address, uint64_t length, uint32_t protection) {
  constexpr uint32_t kGrowsDown = PROT_GROWSDOWN, kGrowsUp = PROT_GROWSUP;
  if (address % soft::kPageSize) return -EINVAL;
  if (protection & ~(prot::kRead | prot::kWrite | prot::kExec | kGrowsDown | kGrowsUp)) {
    return -EINVAL;
  }
  protection &= prot::kRead | prot::kWrite | prot::kExec;
  if (length == 0) return 0;
  length = page_up(length);
  if (length == 0 || !contains(address, length)) return -ENOMEM;
  if (!areas_.covered(address, address + length)) return -ENOMEM;
  if (mprotect(host(address), length, host_protection(protection)) != 0) return -errno;
  areas_.protect(address, address + length, protection);
  changed(address, length);
  return 0;
}

int64_t AddressSpace::grow_in_place(uint64_t old_address, uint64_t old_size, uint64_t new_size) {
  const uint64_t tail = old_address + old_size;
  // The host extends a mapping in place only into unmapped host space: lift the reservation.
  munmap(host(tail), new_size - old_size);
  if (mremap(host(old_address), old_size, new_size, 0) == MAP_FAILED) {
    reserve(tail, new_size - old_size);
    return -ENOMEM;
  }
  Vma grown = *areas_.find(old_address + old_size - 1);
  const uint64_t piece_start = grown.start;
  grown.start = tail;
  grown.end = old_address + new_size;
  if (!grown.anonymous) grown.offset += tail - piece_start;
  areas_.insert(std::move(grown));
  changed(tail, new_size - old_size);
  return static_cast<int64_t>(old_address);
}

int64_t AddressSpace::move(uint64_t old_address, uint64_t old_size, uint64_t new_size,
                           uint64_t target) {
  if (mremap(host(old_address), old_size, new_size, MREMAP_MAYMOVE | MREMAP_FIXED, host(target)) ==
      MAP_FAILED) {
    return -errno;
  }
  if (old_size == 0) {  // a second mapping of the same shared pages
    Vma copy = *areas_.find(old_address);
    if (!copy.anonymous) copy.offset += old_address - copy.start;
    copy.start = target;
    copy.end = target + new_size;
    areas_.insert(std::move(copy));
    changed(target, new_size);
    return static_cast<int64_t>(target);
  }
  reserve(old_address, old_size);
  const Vma last = *areas_.find(old_address + old_size - 1);
  areas_.move(old_address, std::min(old_size, new_size), target);
  if (new_size > old_size) {
    Vma grown = last;
    grown.start = target + old_size;
    grown.end = target + new_size;
    if (!grown.anonymous) grown.offset += old_address + old_size - last.start;
    areas_.insert(std::move(grown));
  } else {
    areas_.remove(old_address, old_address + old_size);
  }
  changed(old_address, old_size);
  changed(target, new_size);
  return static_cast<int64_t>(target);
}

int64_t AddressSpace::remap(uint64_t old_address, uint64_t old_size, uint64_t new_size,
                            uint32_t flags, uint64_t new_address) {
  if (old_address % soft::kPageSize) return -EINVAL;
  if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) return -EINVAL;
  if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)) return -EINVAL;
  if (flags & MREMAP_DONTUNMAP) return -EINVAL;  // not supported (docs/user-mode.md)
  old_size = page_up(old_size);
  new_size = page_up(new_size);
  if (new_size == 0 || !contains(old_address, old_size)) return -EINVAL;
  const Vma* vma = areas_.find(old_address);
  // mm/mremap.c: the old range must lie in one area.
  if (vma == nullptr || (old_size != 0 && old_address + old_size > vma->end)) return -EFAULT;
  if (old_size == 0 && !(vma->shared && (flags & MREMAP_MAYMOVE))) return -EINVAL;

  if (flags & MREMAP_FIXED) {
    if (new_address % soft::kPageSize || !contains(new_address, new_size) ||
        new_address < kMinMapAddress) {
      return -EINVAL;
    }
    if (new_address < old_address + old_size && old_address < new_address + new_size) {
      return -EINVAL;
    }
    unmap(new_address, new_size);
    return move(old_address, old_size, new_size, new_address);
  }
  if (new_size <= old_size) {
    if (new_size < old_size) unmap(old_address + new_size, old_size - new_size);
    return static_cast<int64_t>(old_address);
  }
  if (old_size != 0 && contains(old_address, new_size) &&
      !areas_.overlaps(old_address + old_size, old_address + new_size)) {
    const int64_t grown = grow_in_place(old_address, old_size, new_size);
    if (grown >= 0 || !(flags & MREMAP_MAYMOVE)) return grown;
  }
  if (!(flags & MREMAP_MAYMOVE)) return -ENOMEM;
  auto target = areas_.find_free(new_size, kMinMapAddress, mmap_top_);
  if (!target) target = areas_.find_free(new_size, kMinMapAddress, size_);
  if (!target) return -ENOMEM;
  return move(old_address, old_size, new_size, *target);
}

}  // namespace cella::user
