// The harness of the software-CPU fuzz targets (soft_cpu_fuzz.cc, translated_cpu_fuzz.cc):
// the input is guest code and data in a small flat memory, run at CPL 3 from a fixed state
// (every register a pointer into that memory) for a bounded number of instructions; a fault
// skips the faulting instruction's first byte, to reach more code.
#pragma once

#include <cstdint>
#include <cstring>

#include "engines/soft/cpu.h"
#include "engines/soft/cpuid.h"
#include "tests/support/flat_memory.h"

namespace cella::fuzz {

inline constexpr uint64_t kCodeBase = 0x10000;
inline constexpr size_t kCodeSize = 4 * 4096;

// The memory, shared by every run in the process and refilled from the input each time.
inline testing::FlatMemory& load_hostile_code(const uint8_t* data, size_t size) {
  static testing::FlatMemory memory(kCodeBase, kCodeSize);
  std::memset(memory.host(kCodeBase), 0xCC, kCodeSize);
  memory.write(kCodeBase, std::span<const uint8_t>(data, std::min(size, kCodeSize)));
  return memory;
}

inline const x86::CpuidPolicy& hostile_code_cpuid() {
  static const x86::CpuidPolicy policy = soft::soft_cpuid_policy();
  return policy;
}

// Runs the loaded code on `cpu`; returns the vector of the last guest exception, -1 if none.
inline int run_hostile_code(soft::SoftCpu& cpu) {
  x86::ArchState state;
  state.rip = kCodeBase;
  for (size_t i = 0; i < 16; ++i) state.gpr[i] = kCodeBase + 0x800 * i;  // pointers into memory
  state.cr4 = 0x600;                                                     // OSFXSR, OSXMMEXCPT
  state.seg(x86::Segment::kCs).selector = 0x33;
  cpu.set_state(state);
  int last = -1;
  for (int exits = 0; exits < 16; ++exits) {
    const soft::ExitReason reason = cpu.run(10000);
    if (reason == soft::ExitReason::kBudget) break;
    if (reason == soft::ExitReason::kFault) {
      last = static_cast<int>(cpu.fault.vector);
      cpu.rip += 1;
    }
  }
  return last;
}

}  // namespace cella::fuzz
