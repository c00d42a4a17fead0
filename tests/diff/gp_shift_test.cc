// Shifts and rotates against the host processor: every form of C0/C1/D0-D3 (all eight ModRM.reg
// values, the SAL alias /6 included) and SHLD/SHRD, at every operand size, in a register and
// in memory, with counts around 0, 1, the operand width and the 5/6-bit masks.
#include <gtest/gtest.h>

#include "tests/diff/gp_oracle.h"

namespace cella::diff {
namespace {

constexpr uint8_t kCounts[] = {0,  1,  2,  3,  7,  8,  9,  15, 16, 17,
                               18, 24, 31, 32, 33, 63, 64, 65, 255};

TEST(ShiftOracle, GroupTwoFormsMatchHost) {
  HostComparison host;
  Inputs gen(2);
  gen.randomize(host.data());
  struct Opcode {
    uint8_t byte;
    bool byte_form;
    int count;  // 0: imm8, 1: the constant 1, 2: CL
  };
  static constexpr Opcode kOpcodes[] = {{0xc0, true, 0},  {0xc1, false, 0}, {0xd0, true, 1},
                                        {0xd1, false, 1}, {0xd2, true, 2},  {0xd3, false, 2}};
  for (const Opcode& op : kOpcodes) {
    for (uint8_t digit = 0; digit < 8; ++digit) {
      for (const RmShape& shape : rm_shapes(op.byte_form)) {
        for (unsigned i = 0; i < std::size(kCounts) + 6; ++i) {
          const auto count = i < std::size(kCounts) ? kCounts[i] : static_cast<uint8_t>(gen.next());
          std::vector<uint8_t> insn = shape.prefixes;
          insn.insert(insn.end(), {op.byte, shape.modrm(digit)});
          if (op.count == 0) insn.push_back(count);
          MachineState in = gen.state();
          in.gpr[1] = (gen.next() & ~uint64_t{0xff}) | count;
          if (!host.matches(insn, in)) break;
        }
      }
    }
  }
}

TEST(ShiftOracle, DoublePrecisionShiftsMatchHost) {
  HostComparison host;
  Inputs gen(3);
  gen.randomize(host.data());
  for (uint8_t opcode : {0xa4, 0xa5, 0xac, 0xad}) {
    const bool immediate = opcode == 0xa4 || opcode == 0xac;
    for (const RmShape& shape : rm_shapes(false)) {
      for (unsigned i = 0; i < 3 * std::size(kCounts); ++i) {
        const uint8_t count = kCounts[i % std::size(kCounts)];
        std::vector<uint8_t> insn = shape.prefixes;
        insn.insert(insn.end(), {0x0f, opcode, shape.modrm(2)});  // SRC is RDX
        if (immediate) insn.push_back(count);
        MachineState in = gen.state();
        in.gpr[1] = (gen.next() & ~uint64_t{0xff}) | count;
        if (!host.matches(insn, in)) break;
      }
    }
  }
}

// The destination register is written even for a count of 0 (so a 32-bit one is
// zero-extended), and flags are unchanged then.
TEST(ShiftOracle, CountZeroWritesDestinationButNoFlags) {
  HostComparison host;
  MachineState in = plain_state();
  in.gpr[0] = 0xffffffff12345678;
  in.gpr[1] = 0x100;  // CL = 0
  in.rflags = 0x202 | x86::rflags::kCf | x86::rflags::kOf | x86::rflags::kZf;
  const std::vector<std::vector<uint8_t>> insns = {
      {0xd3, 0xe0},              // shl eax, cl
      {0xc1, 0xc0, 0x00},        // rol eax, 0
      {0xc1, 0xd0, 0x20},        // rcl eax, 32 (masked to 0)
      {0x0f, 0xa5, 0xc0},        // shld eax, eax, cl
      {0x48, 0xc1, 0xf8, 0x40},  // sar rax, 64 (masked to 0)
  };
  for (const auto& insn : insns) EXPECT_TRUE(host.matches(insn, in)) << hex(insn);
}

}  // namespace
}  // namespace cella::diff
