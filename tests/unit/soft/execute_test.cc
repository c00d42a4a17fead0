// Executes small hand-assembled programs on the software CPU.
#include <gtest/gtest.h>

#include "engines/soft/cpu.h"
#include "tests/support/flat_memory.h"

namespace cella::soft {
namespace {

constexpr uint64_t kBase = 0x400000;

struct Machine {
  testing::FlatMemory memory{kBase, 1 << 20};
  CodeCache code;
  x86::CpuidPolicy cpuid{x86::Feature::kFpu, x86::Feature::kCmov};
  SoftCpu cpu{memory, code, cpuid};

  void load(std::initializer_list<uint8_t> program) {
    std::vector<uint8_t> bytes(program);
    memory.write(kBase, bytes);
    cpu.rip = kBase;
    cpu.gpr[4] = kBase + (1 << 20) - 64;
  }
};

TEST(Execute, LoopSumsAndFaultsOnUd2) {
  Machine m;
  m.load({
      0x31, 0xc0,           // xor eax, eax
      0xb9, 0x64, 0, 0, 0,  // mov ecx, 100
      0x01, 0xc8,           // loop: add eax, ecx
      0xff, 0xc9,           //       dec ecx
      0x75, 0xfa,           //       jnz loop
      0x0f, 0x0b,           // ud2
  });
  EXPECT_EQ(m.cpu.run(), ExitReason::kFault);
  EXPECT_EQ(m.cpu.fault.vector, x86::Vector::kInvalidOpcode);
  EXPECT_EQ(m.cpu.gpr[0], 5050u);
  EXPECT_EQ(m.cpu.rip, kBase + 13);
  EXPECT_EQ(m.cpu.retired, 2u + 3 * 100);
}

TEST(Execute, CallReturnAndStack) {
  Machine m;
  m.load({
      0xe8, 0x03, 0, 0, 0,     // call f
      0x0f, 0x0b,              // ud2
      0x90,                    // (padding)
      0x48, 0x8d, 0x04, 0x24,  // f: lea rax, [rsp]
      0xc3,                    //    ret
  });
  const uint64_t rsp = m.cpu.gpr[4];
  EXPECT_EQ(m.cpu.run(), ExitReason::kFault);
  EXPECT_EQ(m.cpu.rip, kBase + 5);
  EXPECT_EQ(m.cpu.gpr[0], rsp - 8);
  EXPECT_EQ(m.cpu.gpr[4], rsp);
}

TEST(Execute, SelfModifyingCodeTakesEffect) {
  Machine m;
  // Overwrites the `mov eax, 1` that follows with `mov eax, 2` before executing it.
  m.load({
      0xc6, 0x05, 0x01, 0, 0, 0, 0x02,  // mov byte [rip+1], 2   (the imm of the next insn)
      0xb8, 0x01, 0, 0, 0,              // mov eax, 1
      0x0f, 0x0b,                       // ud2
  });
  EXPECT_EQ(m.cpu.run(), ExitReason::kFault);
  EXPECT_EQ(m.cpu.gpr[0], 2u);
  EXPECT_GE(m.code.invalidations(), 1u);
}

TEST(Execute, PageFaultLeavesStateUnchanged) {
  Machine m;
  m.load({0x48, 0xa3, 0, 0, 0, 0, 0, 0, 0, 0});  // mov [0], rax: unmapped
  m.cpu.gpr[0] = 42;
  EXPECT_EQ(m.cpu.run(), ExitReason::kFault);
  EXPECT_EQ(m.cpu.fault.vector, x86::Vector::kPageFault);
  EXPECT_EQ(m.cpu.fault.address, 0u);
  EXPECT_EQ(m.cpu.rip, kBase);
}

}  // namespace
}  // namespace cella::soft
