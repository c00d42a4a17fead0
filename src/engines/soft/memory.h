// Guest memory access from instruction semantics: inline TLB fast paths, falling back to
// SoftCpu's slow paths on a miss, a page-crossing access, or a store into decoded code. A false
// return means a guest exception is recorded in cpu.fault.
#pragma once

#include <cstring>
#include <type_traits>

#include "engines/soft/cpu.h"

namespace cella::soft {

// SDM Vol. 3A 6.15 (#SS): a non-canonical address in an access through the stack segment
// raises #SS(0) rather than #GP(0). Called on the failure path of stack-segment accesses.
inline bool stack_segment_fault(SoftCpu& cpu, uint64_t linear) {
  if (!is_canonical(linear) && cpu.fault.vector == x86::Vector::kGeneralProtection) {
    cpu.fault = x86::Fault{x86::Vector::kStackFault, true, 0, 0};
  }
  return false;
}

template <class T>
inline bool within_page(uint64_t linear) {
  return (linear & kPageOffsetMask) <= kPageSize - sizeof(T);
}

template <class T>
inline bool read_memory(SoftCpu& cpu, uint64_t linear, T& out) {
  static_assert(std::is_trivially_copyable_v<T>);
  const TlbEntry& e = cpu.tlb.entry(linear);
  if (e.read_tag == (linear & ~kPageOffsetMask) && within_page<T>(linear)) [[likely]] {
    std::memcpy(&out, reinterpret_cast<const void*>(linear + e.host_minus_linear), sizeof(T));
    return true;
  }
  return cpu.read_slow(linear, &out, sizeof(T));
}

template <class T>
inline bool write_memory(SoftCpu& cpu, uint64_t linear, const T& value) {
  static_assert(std::is_trivially_copyable_v<T>);
  const TlbEntry& e = cpu.tlb.entry(linear);
  if (e.write_tag == (linear & ~kPageOffsetMask) && within_page<T>(linear)) [[likely]] {
    std::memcpy(reinterpret_cast<void*>(linear + e.host_minus_linear), &value, sizeof(T));
    return true;
  }
  return cpu.write_slow(linear, &value, sizeof(T));
}

// Applies new = f(old) to host memory; atomically (a compare-exchange loop) when `atomic`.
template <class T, class F>
inline void update_host(T* p, bool atomic, F&& f) {
  if (atomic) {
    T old = __atomic_load_n(p, __ATOMIC_RELAXED);
    T updated;
    do {
      updated = f(old);
    } while (
        !__atomic_compare_exchange_n(p, &old, updated, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
    return;
  }
  T old;
  std::memcpy(&old, p, sizeof(T));
  const T updated = f(old);
  std::memcpy(p, &updated, sizeof(T));
}

// Read-modify-write: new = f(old). With `locked`, the update is atomic on host memory
// (SDM Vol. 3A 9.1.2.2) where the operand is naturally aligned, on the TLB fast path and
// after a TLB miss alike. A locked operand that is misaligned or split across pages is
// updated non-atomically (hardware would assert a bus lock; see docs/cpu.md).
template <class T, class F>
inline bool modify_memory(SoftCpu& cpu, uint64_t linear, bool locked, F&& f) {
  const bool atomic = locked && (linear % sizeof(T)) == 0;
  const TlbEntry& e = cpu.tlb.entry(linear);
  if (e.write_tag == (linear & ~kPageOffsetMask) && within_page<T>(linear)) [[likely]] {
    update_host(reinterpret_cast<T*>(linear + e.host_minus_linear), atomic, f);
    return true;
  }
  PageTranslation page;
  if (!cpu.translate(linear, Access::kWrite, page)) return false;
  if (within_page<T>(linear) && page.host_page != nullptr) {
    // translate() invalidated any decoded code on the page, as write_slow would.
    update_host(reinterpret_cast<T*>(page.host_page + (linear & kPageOffsetMask)), atomic, f);
    return true;
  }
  // Split across pages, or MMIO (a bus read, then a bus write): check write permission on
  // both pages first (a fault must change nothing);
  // the second page is checked at its first byte, which is what CR2 reports if it faults.
  if (!cpu.translate((linear + sizeof(T) - 1) & ~kPageOffsetMask, Access::kWrite, page)) {
    return false;
  }
  T old;
  if (!cpu.read_slow(linear, &old, sizeof(T))) return false;
  const T updated = f(old);
  return cpu.write_slow(linear, &updated, sizeof(T));
}

}  // namespace cella::soft
