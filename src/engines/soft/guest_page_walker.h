// GuestPageWalker: the PageMapper of a full machine. It translates linear addresses by walking
// the guest's 4-level page tables in guest-physical memory (SDM Vol. 3A 4.5), checks the
// access rights of the access (SDM Vol. 3A 4.6), sets the accessed and dirty flags (SDM Vol.
// 3A 4.8), and raises #PF with its error code (SDM Vol. 3A 4.7). Physical pages that are not
// RAM have no host pointer: accesses to them go to the platform's MMIO bus.
#pragma once

#include "engines/soft/page_mapper.h"
#include "memory/guest_memory.h"

namespace cella::soft {

class GuestPageWalker : public PageMapper {
 public:
  explicit GuestPageWalker(memory::GuestMemory& memory) : memory_(memory) {}

  // The privilege of the access is the TLB bank's (cpu.tlb.user()): user mode at CPL 3,
  // supervisor mode otherwise and for implicit supervisor accesses (descriptor tables, TSS).
  bool translate(SoftCpu& cpu, uint64_t linear, Access access, PageTranslation& out) override;

 private:
  memory::GuestMemory& memory_;
};

}  // namespace cella::soft
