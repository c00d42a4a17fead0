// PageMapper: how the software CPU turns a linear address into guest memory. The process
// virtual machine maps its guest address space directly; a full machine walks the guest's
// page tables (guest_page_walker.h). The CPU caches answers in its TLB and asks again after a
// flush.
#pragma once

#include <cstdint>

#include "engines/soft/tlb.h"

namespace cella::soft {

struct SoftCpu;

struct PageTranslation {
  // Host address of the 4 KiB page; nullptr when the physical page is not RAM: accesses go to
  // the platform's MMIO bus, and the TLB never caches the page.
  uint8_t* host_page = nullptr;
  uint64_t physical_page = 0;  // guest physical address of the page
  bool writable = false;
  bool executable = false;
  bool global = false;
  uint8_t page_shift = 12;  // size of the guest page: 12 (4 KiB), 21 (2 MiB) or 30 (1 GiB)
};

class PageMapper {
 public:
  virtual ~PageMapper() = default;
  // Translates the page that contains `linear` for `access`. On failure, records the guest
  // exception in cpu.fault (#PF with its error code, or #GP for a non-canonical address)
  // and returns false.
  virtual bool translate(SoftCpu& cpu, uint64_t linear, Access access, PageTranslation& out) = 0;
};

// SDM Vol. 1 3.3.7.1: a linear address is canonical when bits 63:47 are all equal.
constexpr bool is_canonical(uint64_t linear) {
  return static_cast<uint64_t>(static_cast<int64_t>(linear << 16) >> 16) == linear;
}

}  // namespace cella::soft
