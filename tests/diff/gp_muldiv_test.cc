// MUL, IMUL (one, two and three operands), DIV and IDIV against the host processor, at every
// operand size, in a register and in memory; divisions with quotients that fit and that
// overflow (#DE), by zero, and the most negative dividend divided by -1.
#include <gtest/gtest.h>

#include "tests/diff/gp_oracle.h"

namespace cella::diff {
namespace {

// Makes rDX:rAX / r/m likely to fit for the division tests: small high half or a sign
// extension of rAX.
void shape_dividend(Inputs& gen, MachineState& in) {
  switch (gen.next() % 4) {
    case 0:
      in.gpr[2] = 0;
      break;
    case 1:
      in.gpr[2] = static_cast<int64_t>(in.gpr[0]) < 0 ? ~uint64_t{0} : 0;
      break;
    case 2:
      in.gpr[2] = gen.next() % 3;
      break;
    default:
      break;
  }
}

TEST(MulDivOracle, OneOperandFormsMatchHost) {
  HostComparison host;
  Inputs gen(4);
  gen.randomize(host.data());
  for (uint8_t opcode : {0xf6, 0xf7}) {
    for (uint8_t digit = 4; digit < 8; ++digit) {
      for (const RmShape& shape : rm_shapes(opcode == 0xf6)) {
        for (int i = 0; i < 40; ++i) {
          std::vector<uint8_t> insn = shape.prefixes;
          insn.insert(insn.end(), {opcode, shape.modrm(digit)});
          MachineState in = gen.state();
          if (digit >= 6) shape_dividend(gen, in);
          if (!host.matches(insn, in)) break;
        }
      }
    }
  }
}

TEST(MulDivOracle, TwoAndThreeOperandImulMatchHost) {
  HostComparison host;
  Inputs gen(5);
  gen.randomize(host.data());
  for (const RmShape& shape : rm_shapes(false)) {
    for (int i = 0; i < 60; ++i) {
      const uint8_t modrm = shape.modrm(2);  // destination RDX
      const uint64_t imm = gen.edgy();
      std::vector<uint8_t> two = shape.prefixes, three8 = shape.prefixes, three = shape.prefixes;
      two.insert(two.end(), {0x0f, 0xaf, modrm});
      three8.insert(three8.end(), {0x6b, modrm, static_cast<uint8_t>(imm)});
      three.insert(three.end(), {0x69, modrm});
      const size_t imm_size = shape.prefixes == std::vector<uint8_t>{0x66} ? 2 : 4;
      for (size_t b = 0; b < imm_size; ++b) three.push_back(static_cast<uint8_t>(imm >> (8 * b)));
      const MachineState in = gen.state();
      if (!host.matches(two, in) || !host.matches(three8, in) || !host.matches(three, in)) {
        break;
      }
    }
  }
}

TEST(MulDivOracle, DivideErrorsMatchHost) {
  HostComparison host;
  MachineState in = plain_state();
  struct Case {
    std::vector<uint8_t> insn;
    uint64_t rax, rdx, rbx;
  };
  const Case kCases[] = {
      {{0x48, 0xf7, 0xf3}, 5, 0, 0},                                        // div rbx: by zero
      {{0x48, 0xf7, 0xfb}, uint64_t{1} << 63, ~uint64_t{0}, ~uint64_t{0}},  // idiv: INT64_MIN / -1
      {{0xf7, 0xfb}, 0x80000000, 0xffffffff, 0xffffffff},        // idiv ebx: INT32_MIN / -1
      {{0x66, 0xf7, 0xfb}, 0x8000, 0xffff, 0xffff},              // idiv bx: INT16_MIN / -1
      {{0xf6, 0xfb}, 0xff80, 0, 0xff},                           // idiv bl: -128 / -1
      {{0xf6, 0xf3}, 0x1234, 0, 0x12},                           // div bl: 0x1234/0x12 > 255
      {{0x48, 0xf7, 0xf3}, 0, 7, 7},                             // div rbx: quotient 2^64
      {{0x48, 0xf7, 0xfb}, uint64_t{1} << 63, ~uint64_t{0}, 1},  // idiv: INT64_MIN / 1 fits
      {{0xf6, 0xfb}, 0xff81, 0, 0xff},                           // idiv bl: -127 / -1 fits
  };
  for (const Case& c : kCases) {
    in.gpr[0] = c.rax;
    in.gpr[2] = c.rdx;
    in.gpr[3] = c.rbx;
    EXPECT_TRUE(host.matches(c.insn, in));
  }
  // INT64_MIN / -1 raises #DE on the software CPU and leaves the registers as they were.
  in.gpr[0] = kCases[1].rax;
  in.gpr[2] = kCases[1].rdx;
  in.gpr[3] = kCases[1].rbx;
  const Outcome out = host.soft(kCases[1].insn, in);
  EXPECT_EQ(out.vector, 0);  // #DE
  EXPECT_EQ(out.state.gpr[0], kCases[1].rax);
  EXPECT_EQ(out.state.gpr[2], kCases[1].rdx);
}

}  // namespace
}  // namespace cella::diff
