// LOCK atomicity: two software CPUs on two host threads increment shared counters with LOCK
// XADD, LOCK CMPXCHG and LOCK CMPXCHG16B; no increment may be lost. (The instructions'
// results are compared with the host in tests/diff/gp_atomic_test.cc.)
#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "engines/soft/cpu.h"
#include "engines/soft/cpuid.h"
#include "tests/support/flat_memory.h"

namespace cella::soft {
namespace {

// Two CPUs run an increment loop on the same counter in parallel; with LOCK no increment may
// be lost.
void run_in_parallel(std::vector<uint8_t> program, bool sixteen_bytes) {
  constexpr uint64_t kCounterOffset = 8192, kIterations = 20000;
  constexpr uint64_t kBase = 0x200000;
  testing::FlatMemory memory(kBase, 16 * 4096);
  memory.write(kBase, program);
  const x86::CpuidPolicy cpuid = soft_cpuid_policy();
  auto worker = [&] {
    CodeCache code;
    SoftCpu cpu(memory, code, cpuid);
    cpu.rip = kBase;
    cpu.gpr[1] = cpu.gpr[8] = kIterations;
    cpu.gpr[3] = cpu.gpr[6] = kBase + kCounterOffset;
    EXPECT_EQ(cpu.run(), ExitReason::kFault);
    EXPECT_EQ(cpu.fault.vector, x86::Vector::kInvalidOpcode);  // the final ud2
  };
  std::thread a(worker), b(worker);
  a.join();
  b.join();
  uint64_t counter[2];
  std::memcpy(counter, memory.host(kBase + kCounterOffset), sizeof(counter));
  EXPECT_EQ(counter[0], 2 * kIterations);
  EXPECT_EQ(counter[1], sixteen_bytes ? 2 * kIterations : 0);
}

TEST(AtomicSoft, LockedIncrementsFromTwoThreadsAreNotLost) {
  run_in_parallel(
      {
          0xb8, 1,    0,    0,    0,  // 0: mov eax, 1
          0xf0, 0x0f, 0xc1, 0x03,     // 5: lock xadd [rbx], eax
          0xb8, 1,    0,    0,    0,  // 9: mov eax, 1
          0xff, 0xc9,                 // 14: dec ecx
          0x75, 0xf3,                 // 16: jnz 5
          0x0f, 0x0b,                 // 18: ud2
      },
      false);
  run_in_parallel(
      {
          0x8b, 0x03,              // 0: mov eax, [rbx]
          0x8d, 0x50, 0x01,        // 2: lea edx, [rax+1]
          0xf0, 0x0f, 0xb1, 0x13,  // 5: lock cmpxchg [rbx], edx
          0x75, 0xf7,              // 9: jnz 2 (EAX now holds the current value)
          0xff, 0xc9,              // 11: dec ecx
          0x75, 0xf1,              // 13: jnz 0
          0x0f, 0x0b,              // 15: ud2
      },
      false);
  run_in_parallel(
      {
          0x48, 0x8b, 0x06,              // 0: mov rax, [rsi]
          0x48, 0x8b, 0x56, 0x08,        // 3: mov rdx, [rsi+8]
          0x48, 0x8d, 0x58, 0x01,        // 7: lea rbx, [rax+1]
          0x48, 0x8d, 0x4a, 0x01,        // 11: lea rcx, [rdx+1]
          0xf0, 0x48, 0x0f, 0xc7, 0x0e,  // 15: lock cmpxchg16b [rsi]
          0x75, 0xf1,                    // 20: jnz 7 (RDX:RAX now hold the current value)
          0x41, 0xff, 0xc8,              // 22: dec r8d
          0x75, 0xe5,                    // 25: jnz 0
          0x0f, 0x0b,                    // 27: ud2
      },
      true);
}

}  // namespace
}  // namespace cella::soft
