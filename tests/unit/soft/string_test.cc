// String instructions against the host processor: MOVS CMPS STOS LODS SCAS at every size,
// without and with REP/REPE/REPNE, both directions, 32-bit addressing (67), an FS override of
// the source, overlapping source and destination, RCX = 0, and faults in the middle of a
// repeated instruction (the registers must stop at the faulting iteration, as on the host).
// Then, on the software CPU alone: a huge count is executed in bounded steps.
#include <gtest/gtest.h>

#include <cstring>

#include "engines/soft/cpu.h"
#include "engines/soft/cpuid.h"
#include "tests/support/flat_memory.h"
#include "tests/unit/soft/host_oracle.h"

namespace cella::soft::testing {
namespace {

constexpr uint64_t kDf = x86::rflags::kDf;

// Low-entropy data (bytes 0 and 1), so that REPE/REPNE comparisons run for a while.
void fill_low_entropy(InputGenerator& gen, std::span<uint8_t> data) {
  for (uint8_t& b : data) b = static_cast<uint8_t>(gen.next() % 8 == 0);
}

struct StringForm {
  uint8_t opcode;
  bool compares;
};
constexpr StringForm kForms[] = {{0xa4, false}, {0xa5, false}, {0xa6, true},  {0xa7, true},
                                 {0xaa, false}, {0xab, false}, {0xac, false}, {0xad, false},
                                 {0xae, true},  {0xaf, true}};

TEST(StringOracle, EveryFormMatchesHost) {
  HostOracle oracle;
  InputGenerator gen(11);
  fill_low_entropy(gen, oracle.data());
  const uint64_t fs_base = HostOracle::host_fs_base();
  for (const StringForm& form : kForms) {
    const bool byte_form = (form.opcode & 1) == 0;
    for (uint8_t rep : {0x00, 0xf3, 0xf2}) {
      for (int i = 0; i < 48; ++i) {
        const bool address32 = i % 4 == 1, fs = i % 6 == 2;
        std::vector<uint8_t> insn;
        if (address32) insn.push_back(0x67);
        if (fs) insn.push_back(0x64);
        if (rep) insn.push_back(rep);
        if (!byte_form) {
          static constexpr uint8_t kSizes[3] = {0x66, 0x00, 0x48};
          if (const uint8_t size = kSizes[i % 3]) insn.push_back(size);
        }
        insn.push_back(form.opcode);
        OracleState in = gen.state();
        in.rflags = gen.flags() | (i % 2 ? kDf : 0);
        in.gpr[0] = gen.next() % 2;  // AL/AX... 0 or 1, like the data
        const uint64_t source = HostOracle::kDataBase + 4096 + 512 + gen.next() % 7000;
        const uint64_t destination = i % 3 == 0
                                         ? source + gen.next() % 33 - 16
                                         : HostOracle::kDataBase + 4096 + 512 + gen.next() % 7000;
        in.gpr[6] = fs ? source - fs_base : source;
        in.gpr[7] = destination;
        in.gpr[1] = i % 8 == 0 ? 0 : gen.next() % 64;
        if (address32) {  // upper halves are ignored, and cleared when written
          in.gpr[1] |= gen.next() << 32;
          if (!fs) in.gpr[6] |= gen.next() << 32;
          in.gpr[7] |= gen.next() << 32;
        }
        if (!matches_host(oracle, insn, in)) break;
      }
    }
  }
}

// A fault in the middle of REP MOVS/STOS/CMPS/SCAS/LODS: page 3 of the data area is
// inaccessible, the strings run into it (forwards) and the registers must stop where the
// host's do; then backwards into an inaccessible page 0.
TEST(StringOracle, FaultInTheMiddleStopsAtTheFaultingIteration) {
  HostOracle oracle;
  InputGenerator gen(12);
  fill_low_entropy(gen, oracle.data());
  oracle.set_page_accessible(3, false);
  oracle.set_page_accessible(0, false);
  for (const StringForm& form : kForms) {
    for (uint8_t size : {0x00, 0x66, 0x48}) {
      if ((form.opcode & 1) == 0 && size != 0) continue;
      for (int i = 0; i < 8; ++i) {
        const bool backward = i % 2 == 1;
        std::vector<uint8_t> insn = {0xf3};
        if (size) insn.push_back(size);
        insn.push_back(form.opcode);
        OracleState in;
        in.rflags = 0x202 | (backward ? kDf : 0);
        in.gpr[0] = 0;
        // Near the inaccessible page, unaligned sometimes (an element straddles it).
        const uint64_t edge = backward ? HostOracle::kDataBase + 4096 + 13 * (i / 2)
                                       : HostOracle::kDataBase + 3 * 4096 - 40 - 3 * (i / 2);
        const uint64_t other = HostOracle::kDataBase + 4096 + 2048;
        const bool uses_source = form.opcode <= 0xa7 || form.opcode == 0xac || form.opcode == 0xad;
        const bool uses_destination = form.opcode != 0xac && form.opcode != 0xad;
        const bool source_faults = uses_source && (i / 2 % 2 == 0 || !uses_destination);
        in.gpr[6] = source_faults ? edge : other;
        in.gpr[7] = source_faults ? other : edge;
        in.gpr[1] = 100;
        if (form.compares) std::memset(oracle.data().data() + 4096, 0, 2 * 4096);  // REPE runs on
        if (!matches_host(oracle, insn, in)) break;
        const OracleOutcome soft = oracle.run_soft(insn, in);
        EXPECT_TRUE(soft.faulted && soft.vector == x86::Vector::kPageFault) << hex(insn);
      }
    }
  }
}

// A REP with a huge count runs in bounded steps: each execution returns with RIP unchanged
// (so the run loop can stop in between), and re-executing it finishes the job exactly.
TEST(StringSoft, HugeCountRunsInBoundedRestartableSteps) {
  constexpr uint64_t kBase = 0x1000000, kSize = 8 << 20, kCount = 6 << 20;
  cella::testing::FlatMemory memory(kBase, kSize);
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
  cella::testing::FlatMemory memory(kBase, 1 << 20);
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

}  // namespace
}  // namespace cella::soft::testing
