// CMPXCHG XADD CMPXCHG8B CMPXCHG16B against the host processor (equal and unequal compares,
// registers and memory, with and without LOCK, a misaligned CMPXCHG16B operand), then LOCK
// atomicity: two software CPUs on two host threads increment shared counters.
#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "engines/soft/cpu.h"
#include "engines/soft/cpuid.h"
#include "tests/support/flat_memory.h"
#include "tests/unit/soft/host_oracle.h"

namespace cella::soft::testing {
namespace {

uint64_t load64(HostOracle& oracle, uint64_t linear) {
  uint64_t value;
  std::memcpy(&value, oracle.data().data() + (linear - HostOracle::kDataBase), 8);
  return value;
}

TEST(AtomicOracle, CompareExchangeAndExchangeAddMatchHost) {
  HostOracle oracle;
  InputGenerator gen(13);
  gen.randomize(oracle.data());
  for (uint8_t opcode : {0xb0, 0xb1, 0xc0, 0xc1}) {
    for (const RmShape& shape : rm_shapes((opcode & 1) == 0)) {
      for (int i = 0; i < 40; ++i) {
        std::vector<uint8_t> insn;
        if (shape.memory && i % 2) insn.push_back(0xf0);  // LOCK
        insn.insert(insn.end(), shape.prefixes.begin(), shape.prefixes.end());
        insn.insert(insn.end(), {0x0f, opcode, shape.modrm(i % 3 == 0 ? 0 : 2)});  // src RAX/RDX
        OracleState in = gen.state();
        if (i % 2 == 0) {  // CMPXCHG: make the compare succeed
          in.gpr[0] = shape.memory ? load64(oracle, in.gpr[6]) : in.gpr[3];
          if (shape.rm == 4) in.gpr[0] = in.gpr[0] >> 8;  // AH against AL
        }
        if (!matches_host(oracle, insn, in)) break;
      }
    }
  }
}

TEST(AtomicOracle, CompareExchange8And16MatchHost) {
  HostOracle oracle;
  InputGenerator gen(14);
  gen.randomize(oracle.data());
  for (bool wide : {false, true}) {
    for (int i = 0; i < 64; ++i) {
      std::vector<uint8_t> insn;
      if (i % 2) insn.push_back(0xf0);
      if (wide) insn.push_back(0x48);
      insn.insert(insn.end(), {0x0f, 0xc7, 0x0e});  // cmpxchg8b/16b [rsi]
      OracleState in = gen.state();
      in.gpr[6] = HostOracle::kDataBase + 4096 + (gen.next() % 256) * 16;
      if (i % 8 == 7) in.gpr[6] += wide ? 8 : 4;  // misaligned: #GP for CMPXCHG16B
      if (i % 3 != 0) {                           // equal
        const uint64_t low = load64(oracle, in.gpr[6]), high = load64(oracle, in.gpr[6] + 8);
        in.gpr[0] = wide ? low : (low & 0xffffffff) | (gen.next() << 32);
        in.gpr[2] = wide ? high : (low >> 32) | (gen.next() << 32);
      }
      if (!matches_host(oracle, insn, in)) break;
      if (wide && i % 8 == 7) {
        const OracleOutcome soft = oracle.run_soft(insn, in);
        EXPECT_TRUE(soft.faulted && soft.vector == x86::Vector::kGeneralProtection);
      }
    }
  }
}

// Two CPUs run an increment loop on the same counter in parallel; with LOCK no increment may
// be lost.
void run_in_parallel(std::vector<uint8_t> program, bool sixteen_bytes) {
  constexpr uint64_t kCounterOffset = 8192, kIterations = 20000;
  constexpr uint64_t kBase = 0x200000;
  cella::testing::FlatMemory memory(kBase, 16 * 4096);
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
}  // namespace cella::soft::testing
