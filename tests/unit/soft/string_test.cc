// String instructions on the software CPU alone: huge counts run in bounded restartable steps,
// 32-bit offsets wrap, and a backward REP stops at the faulting iteration. (Every form is
// compared with the host in tests/diff/gp_string_test.cc.)
#include <gtest/gtest.h>

#include <cstring>

#include "engines/soft/cpu.h"
#include "engines/soft/cpuid.h"
#include "tests/support/flat_memory.h"

namespace cella::soft {
namespace {

// A REP with a huge count runs in bounded steps: each execution returns with RIP unchanged
// (so the run loop can stop in between), and re-executing it finishes the job exactly.
TEST(StringSoft, HugeCountRunsInBoundedRestartableSteps) {
  constexpr uint64_t kBase = 0x1000000, kSize = 8 << 20, kCount = 6 << 20;
  testing::FlatMemory memory(kBase, kSize);
  CodeCache code;
  const x86::CpuidPolicy cpuid = soft_cpuid_policy();
  SoftCpu cpu(memory, code, cpuid);
  const std::vector<uint8_t> program = {0xf3, 0xaa, 0xf3, 0x48, 0xa5, 0x0f, 0x0b};
  memory.write(kBase, program);  // rep stosb; rep movsq; ud2
  cpu.rip = kBase;
  cpu.gpr[0] = 0x5a;
  cpu.gpr[1] = kCount;
  cpu.gpr[7] = kBase + 4096;
  EXPECT_EQ(cpu.run(1), ExitReason::kBudget);
  EXPECT_EQ(cpu.rip, kBase);  // still on REP STOSB
  EXPECT_GT(cpu.gpr[1], 0u);
  EXPECT_LT(cpu.gpr[1], kCount);
  EXPECT_EQ(cpu.gpr[7], kBase + 4096 + (kCount - cpu.gpr[1]));
  while (cpu.rip == kBase) cpu.run(1);
  EXPECT_EQ(cpu.gpr[1], 0u);
  EXPECT_EQ(cpu.gpr[7], kBase + 4096 + kCount);
  for (uint64_t offset : {uint64_t{0}, kCount / 2, kCount - 1}) {
    EXPECT_EQ(*memory.host(kBase + 4096 + offset), 0x5a) << offset;
  }
  EXPECT_EQ(*memory.host(kBase + 4096 + kCount), 0);
  // REP MOVSQ of the filled area 1 MiB up, overlapping: what was copied is copied again.
  cpu.rip = kBase + 2;
  cpu.gpr[1] = kCount / 8 - (1 << 17);
  cpu.gpr[6] = kBase + 4096;
  cpu.gpr[7] = kBase + 4096 + (1 << 20);
  *memory.host(kBase + 4096) = 0x11;
  EXPECT_EQ(cpu.run(), ExitReason::kFault);  // ud2
  EXPECT_EQ(cpu.fault.vector, x86::Vector::kInvalidOpcode);
  EXPECT_EQ(cpu.gpr[1], 0u);
  EXPECT_EQ(*memory.host(kBase + 4096 + (1 << 20)), 0x11);
  EXPECT_EQ(*memory.host(kBase + 4096 + (2 << 20)), 0x11);  // copied again from the copy
  EXPECT_EQ(*memory.host(kBase + 4096 + (2 << 20) + 1), 0x5a);
}

// With 32-bit addressing the offsets wrap at 4 GiB: REP MOVSB from FS:ESI = 0xFFFFFFF8 copies
// eight bytes, then reads at FS base + 0 (unmapped here), faulting with ESI = 0 and ECX = 8.
TEST(StringSoft, AddressSize32OffsetsWrapAround) {
  constexpr uint64_t kBase = 0x400000;
  testing::FlatMemory memory(kBase, 1 << 20);
  CodeCache code;
  const x86::CpuidPolicy cpuid = soft_cpuid_policy();
  SoftCpu cpu(memory, code, cpuid);
  const std::vector<uint8_t> program = {0x67, 0x64, 0xf3, 0xa4};  // rep movsb [edi], fs:[esi]
  memory.write(kBase, program);
  const uint64_t fs_base = kBase + 0x10000 - 0xfffffff8;  // FS:0xFFFFFFF8 = kBase + 0x10000
  cpu.segment_base[static_cast<int>(x86::Segment::kFs)] = fs_base;
  cpu.rip = kBase;
  cpu.gpr[1] = 16;
  cpu.gpr[6] = 0xfffffff8;
  cpu.gpr[7] = 0x20000 + kBase;
  for (int i = 0; i < 8; ++i) *memory.host(kBase + 0x10000 + i) = static_cast<uint8_t>(i + 1);
  EXPECT_EQ(cpu.run(), ExitReason::kFault);
  EXPECT_EQ(cpu.fault.vector, x86::Vector::kPageFault);
  EXPECT_EQ(cpu.fault.address, fs_base);  // the wrapped offset 0
  EXPECT_EQ(cpu.gpr[6], 0u);
  EXPECT_EQ(cpu.gpr[1], 8u);
  EXPECT_EQ(cpu.gpr[7], 0x20008 + kBase);
  EXPECT_EQ(cpu.rip, kBase);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(*memory.host(kBase + 0x20000 + i), i + 1);
}

// Backwards (DF = 1) into an unmapped page: REP MOVSQ from just above the region's start
// copies the elements inside it, then faults with the registers at the faulting element.
TEST(StringSoft, BackwardFaultStopsAtTheFaultingIteration) {
  constexpr uint64_t kBase = 0x400000;
  testing::FlatMemory memory(kBase, 1 << 20);
  CodeCache code;
  const x86::CpuidPolicy cpuid = soft_cpuid_policy();
  SoftCpu cpu(memory, code, cpuid);
  const std::vector<uint8_t> program = {0xfd, 0xf3, 0x48, 0xa5};  // std; rep movsq
  memory.write(kBase + 0x10000, program);
  cpu.rip = kBase + 0x10000;
  cpu.gpr[1] = 10;
  cpu.gpr[6] = kBase + 12;  // elements at +12, +4 are inside; the next, at -4, straddles
  cpu.gpr[7] = kBase + 0x20000;
  EXPECT_EQ(cpu.run(), ExitReason::kFault);
  EXPECT_EQ(cpu.fault.vector, x86::Vector::kPageFault);
  EXPECT_EQ(cpu.fault.address, kBase - 4);
  EXPECT_EQ(cpu.rip, kBase + 0x10001);  // on REP MOVSQ, after STD
  EXPECT_EQ(cpu.gpr[1], 8u);
  EXPECT_EQ(cpu.gpr[6], kBase - 4);
  EXPECT_EQ(cpu.gpr[7], kBase + 0x20000 - 16);
}

}  // namespace
}  // namespace cella::soft
