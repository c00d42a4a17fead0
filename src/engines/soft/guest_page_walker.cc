#include "engines/soft/guest_page_walker.h"

#include "cpu/x86/control_registers.h"
#include "engines/soft/cpu.h"

namespace cella::soft {

namespace {

using namespace x86;

constexpr uint64_t bits(unsigned high, unsigned low) {
  return ((high == 63 ? ~uint64_t{0} : (uint64_t{1} << (high + 1)) - 1) >> low) << low;
}

bool page_fault(SoftCpu& cpu, uint64_t linear, uint32_t code) {
  cpu.fault = Fault{Vector::kPageFault, true, code, linear};
  return false;
}

}  // namespace

bool GuestPageWalker::translate(SoftCpu& cpu, uint64_t linear, Access access,
                                PageTranslation& out) {
  const ArchState& s = cpu.arch;
  if (!(s.cr0 & cr0::kPg)) {
    // SDM Vol. 3A 4.1.1: without paging, linear addresses are physical addresses.
    out.physical_page = linear & ~kPageOffsetMask;
    out.host_page = memory_.host_page(out.physical_page);
    out.writable = out.executable = true;
    out.global = false;
    out.page_shift = 12;
    return true;
  }
  // SDM Vol. 3A 3.3.7.1: a non-canonical address raises #GP(0) (#SS(0) through SS, which the
  // callers of stack accesses substitute).
  if (!is_canonical(linear)) {
    cpu.fault = Fault{Vector::kGeneralProtection, true, 0, 0};
    return false;
  }
  const bool user = cpu.tlb.user();
  const bool write = access == Access::kWrite;
  const bool fetch = access == Access::kFetch;
  const bool nxe = (s.efer & efer::kNxe) != 0;
  // SDM Vol. 3A 4.7: error-code bits that describe the access. I/D is reported for fetches
  // only with IA32_EFER.NXE = 1 (or CR4.SMEP, which is not advertised).
  const uint32_t access_code = (write ? pf_error::kWrite : 0) | (user ? pf_error::kUser : 0) |
                               (fetch && nxe ? pf_error::kInstructionFetch : 0);

  // SDM Vol. 3A 4.5.4: bits MAXPHYADDR..51 are reserved in every entry, XD is reserved
  // without IA32_EFER.NXE.
  const unsigned maxphyaddr = cpu.cpuid.physical_address_bits;
  const uint64_t address_mask = bits(maxphyaddr - 1, 12);
  const uint64_t reserved = bits(51, maxphyaddr) | (nxe ? 0 : pte::kExecuteDisable);
  const bool gigabyte_pages = cpu.cpuid.has(Feature::kPdpe1gb);

  uint64_t* path[4];
  uint64_t entries[4];
  int depth = 0;
  uint64_t table = s.cr3 & address_mask;
  bool user_ok = true, write_ok = true, execute_ok = true;
  unsigned shift = 39;
  for (int level = 4;; --level, shift -= 9) {
    uint8_t* host = memory_.host_page(table);
    uint64_t entry;
    uint64_t* p = nullptr;
    if (host == nullptr) {
      // A paging structure outside RAM reads the open bus (all ones): a reserved-bit fault.
      entry = ~uint64_t{0};
    } else {
      p = reinterpret_cast<uint64_t*>(host) + ((linear >> shift) & 511);
      entry = __atomic_load_n(p, __ATOMIC_RELAXED);
    }
    if (!(entry & pte::kPresent)) return page_fault(cpu, linear, access_code);
    const bool large = level <= 3 && level >= 2 && (entry & pte::kPageSize);
    uint64_t rsvd = reserved;
    if (level == 4) rsvd |= pte::kPageSize;  // SDM Vol. 3A Table 4-15: PML4E bit 7
    if (level == 3 && large) rsvd |= gigabyte_pages ? bits(29, 13) : pte::kPageSize;
    if (level == 2 && large) rsvd |= bits(20, 13);  // SDM Vol. 3A Table 4-18
    if (entry & rsvd) {
      return page_fault(cpu, linear, access_code | pf_error::kPresent | pf_error::kReservedBit);
    }
    user_ok = user_ok && (entry & pte::kUser);
    write_ok = write_ok && (entry & pte::kWritable);
    execute_ok = execute_ok && !(nxe && (entry & pte::kExecuteDisable));
    path[depth] = p;
    entries[depth++] = entry;
    if (level == 1 || large) break;
    table = entry & address_mask;
  }

  // SDM Vol. 3A 4.6.1: access rights. Supervisor-mode accesses may read any page, and write a
  // read-only page when CR0.WP = 0; fetches need XD clear at every level (with NXE).
  const bool may_write = write_ok ? (user_ok || !user) : (!user && !(s.cr0 & cr0::kWp));
  const bool may_fetch = execute_ok && (user_ok || !user);
  if ((user && !user_ok) || (write && !may_write) || (fetch && !may_fetch)) {
    return page_fault(cpu, linear, access_code | pf_error::kPresent);
  }

  // SDM Vol. 3A 4.8: accessed flags in every entry used, the dirty flag in the one that maps
  // the page on a write, set atomically (other CPUs and the guest update the same entries).
  // Cella sets them only for a translation that succeeds, so a faulting access changes nothing.
  const uint64_t leaf = entries[depth - 1];
  for (int i = 0; i < depth; ++i) {
    uint64_t set = pte::kAccessed;
    if (i == depth - 1 && write) set |= pte::kDirty;
    if (path[i] != nullptr && (entries[i] & set) != set) {
      __atomic_fetch_or(path[i], set, __ATOMIC_SEQ_CST);
    }
  }
  const uint64_t page_mask = bits(shift - 1, 0);
  out.physical_page =
      ((leaf & address_mask & ~page_mask) | (linear & page_mask)) & ~kPageOffsetMask;
  out.host_page = memory_.host_page(out.physical_page);
  // Cached write permission requires the dirty flag, so the first write walks again and sets it.
  out.writable = may_write && (write || (leaf & pte::kDirty));
  out.executable = may_fetch;
  out.global = (leaf & pte::kGlobal) && (s.cr4 & cr4::kPge);  // SDM Vol. 3A 4.10.2.4
  out.page_shift = static_cast<uint8_t>(shift);
  return true;
}

}  // namespace cella::soft
