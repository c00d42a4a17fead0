// Fuzzes the software CPU with hostile code: the input is the guest's code and data; it runs
// for a bounded number of instructions on a fresh CPU, and must end with a guest exception or
// the budget, never a host crash, hang or out-of-range host access.
#include <cstdint>
#include <cstring>

#include "engines/soft/cpu.h"
#include "engines/soft/cpuid.h"
#include "tests/support/flat_memory.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cella;
  constexpr uint64_t kBase = 0x10000;
  constexpr size_t kSize = 4 * 4096;
  static testing::FlatMemory memory(kBase, kSize);
  static const x86::CpuidPolicy policy = soft::soft_cpuid_policy();
  std::memset(memory.host(kBase), 0xCC, kSize);
  memory.write(kBase, std::span<const uint8_t>(data, std::min(size, kSize)));
  soft::CodeCache code;  // fresh state per input
  soft::SoftCpu cpu(memory, code, policy);
  x86::ArchState state;
  state.rip = kBase;
  for (size_t i = 0; i < 16; ++i) state.gpr[i] = kBase + 0x800 * i;  // pointers into memory
  state.cr4 = 0x600;                                                 // OSFXSR, OSXMMEXCPT
  state.seg(x86::Segment::kCs).selector = 0x33;
  cpu.set_state(state);
  for (int exits = 0; exits < 16; ++exits) {
    const soft::ExitReason reason = cpu.run(10000);
    if (reason == soft::ExitReason::kBudget) break;
    if (reason == soft::ExitReason::kFault) {
      // Skip the faulting instruction's first byte and go on, to reach more code.
      cpu.rip += 1;
    }
  }
  return 0;
}
