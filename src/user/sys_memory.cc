// Memory system calls: emulated on the guest address space (address_space.h), so that the
// guest's view (VmaMap) and the host mappings inside the reserved range never disagree.
#include <sys/mman.h>
#include <sys/syscall.h>

#include <cerrno>

#include "user/host_signals.h"
#include "user/process.h"
#include "user/syscall_handlers.h"

namespace cella::user {

int64_t sys_mmap(Process& process, const SyscallSpec&, SyscallArgs& a) {
  MapRequest request{.address = a.arg[0],
                     .length = a.arg[1],
                     .protection = static_cast<uint32_t>(a.arg[2]),
                     .flags = static_cast<uint32_t>(a.arg[3]),
                     .fd = static_cast<int>(a.arg[4]),
                     .offset = a.arg[5],
                     .name = {}};
  return process.memory().map(request);
}

int64_t sys_munmap(Process& process, const SyscallSpec&, SyscallArgs& a) {
  return process.memory().unmap(a.arg[0], a.arg[1]);
}

int64_t sys_mprotect(Process& process, const SyscallSpec&, SyscallArgs& a) {
  return process.memory().protect(a.arg[0], a.arg[1], static_cast<uint32_t>(a.arg[2]));
}

int64_t sys_mremap(Process& process, const SyscallSpec&, SyscallArgs& a) {
  return process.memory().remap(a.arg[0], a.arg[1], a.arg[2], static_cast<uint32_t>(a.arg[3]),
                                a.arg[4]);
}

// brk(2) as the kernel implements it (mm/mmap.c): the new break on success, the old one on
// failure; the heap is anonymous memory right after the program.
int64_t sys_brk(Process& process, const SyscallSpec&, SyscallArgs& a) {
  AddressSpace& memory = process.memory();
  const uint64_t requested = a.arg[0];
  const auto current = static_cast<int64_t>(process.brk_current);
  if (requested < process.brk_start) return current;
  const uint64_t old_end = page_up(process.brk_current);
  const uint64_t new_end = page_up(requested);
  if (new_end == 0 || !memory.contains(new_end, 0)) return current;
  if (new_end > old_end) {
    if (memory.areas().overlaps(old_end, new_end)) return current;
    MapRequest heap{.address = old_end,
                    .length = new_end - old_end,
                    .protection = prot::kRead | prot::kWrite,
                    .flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                    .fd = -1,
                    .offset = 0,
                    .name = "[heap]"};
    if (memory.map(heap) < 0) return current;
  } else if (new_end < old_end) {
    memory.unmap(new_end, old_end - new_end);
  }
  process.brk_current = requested;
  return static_cast<int64_t>(requested);
}

int64_t sys_madvise(Process& process, const SyscallSpec& spec, SyscallArgs& a) {
  AddressSpace& memory = process.memory();
  const uint64_t address = a.arg[0];
  const int advice = static_cast<int>(a.arg[2]);
  if (address % 4096) return -EINVAL;
  const uint64_t length = page_up(a.arg[1]);
  if (a.arg[1] != 0 && length == 0) return -EINVAL;
  if (length == 0) return 0;
  if (!memory.contains(address, length) || !memory.areas().covered(address, address + length)) {
    return -ENOMEM;
  }
  switch (advice) {
    case MADV_DONTFORK:  // the child must keep every page the address space says is mapped
    case MADV_DOFORK:
      return 0;
    case MADV_HWPOISON:  // would poison host memory
    case 101:            // MADV_SOFT_OFFLINE
      return -EPERM;
    default:
      break;
  }
  const int64_t result =
      safe_syscall(static_cast<int64_t>(spec.number),
                   reinterpret_cast<uint64_t>(memory.host(address)), length, a.arg[2]);
  // Discarded pages read back as zeros or file contents: decoded code there is stale.
  if (result == 0) memory.changed(address, length);
  return result;
}

int64_t sys_memory_range(Process& process, const SyscallSpec& spec, SyscallArgs& a) {
  AddressSpace& memory = process.memory();
  const uint64_t address = page_down(a.arg[0]);
  const uint64_t length = page_up(a.arg[1] + (a.arg[0] - address));
  if (spec.number == SYS_msync && a.arg[0] % 4096) return -EINVAL;
  if (length == 0) return 0;
  if (!memory.contains(address, length) || !memory.areas().covered(address, address + length)) {
    return -ENOMEM;
  }
  return safe_syscall(static_cast<int64_t>(spec.number),
                      reinterpret_cast<uint64_t>(memory.host(address)), length, a.arg[2]);
}

}  // namespace cella::user
