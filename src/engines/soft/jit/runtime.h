// The functions translated code calls (System V calling convention): the slow paths of guest
// memory accesses and the flag evaluations it does not inline. Each one does what the
// interpreter's semantics would do, through the same SoftCpu paths.
#pragma once

#include <cstdint>

#include "engines/soft/cpu.h"

namespace cella::soft::jit {

// The address translated code calls (MOV RAX, imm64; CALL RAX).
template <class F>
uint64_t address_of(F* function) {
  return reinterpret_cast<uint64_t>(function);
}

// A load's value and whether it succeeded (returned in RAX:RDX).
struct LoadResult {
  uint64_t value;
  uint64_t ok;  // 0: a guest exception is recorded in cpu->fault
};

// Loads `size` bytes (1, 2, 4, 8) at `linear`, an address in `segment` (x86::Segment: a #GP
// through SS becomes #SS, SDM Vol. 3A 6.15).
LoadResult load_slow(SoftCpu* cpu, uint64_t linear, uint64_t size, uint64_t segment);
// Stores the low `size` bytes of `value`; 0 when a guest exception is recorded.
uint64_t store_slow(SoftCpu* cpu, uint64_t linear, uint64_t size, uint64_t segment, uint64_t value);
// Condition `condition` (Condition's encoding) of the lazily kept flags: 0 or 1.
uint64_t test_condition(const LazyFlags* flags, uint64_t condition);
// CF of the lazily kept flags: 0 or 1.
uint64_t carry_flag(const LazyFlags* flags);
// Records #GP(0) (a branch to a non-canonical address, SDM Vol. 1 6.3.7).
void raise_general_protection(SoftCpu* cpu);

}  // namespace cella::soft::jit
