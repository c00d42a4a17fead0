// BMI1 (VEX-encoded ANDN BEXTR BLSI BLSMSK BLSR) against the host processor, through the
// decoder's VEX path: W0/W1 sizes, registers 8-15 in ModRM.reg, ModRM.rm and VEX.vvvv,
// memory operands, and the encodings that must raise #UD (VEX.L = 1, a 66 prefix before VEX).
#include <gtest/gtest.h>

#include "tests/diff/gp_oracle.h"

namespace cella::diff {
namespace {

// C4 RXB.map W.vvvv.L.pp opcode ModRM (SDM Vol. 2A 2.3.5.5): map 0F38, pp = 00.
std::vector<uint8_t> vex(bool w, bool l, unsigned reg, unsigned vvvv, unsigned rm, bool memory,
                         uint8_t opcode, int digit = -1) {
  const unsigned modrm_reg = digit >= 0 ? static_cast<unsigned>(digit) : reg;
  const uint8_t byte1 = static_cast<uint8_t>(((modrm_reg & 8) ? 0 : 0x80) | 0x40 |
                                             ((!memory && (rm & 8)) ? 0 : 0x20) | 0x02);
  const uint8_t byte2 =
      static_cast<uint8_t>((w ? 0x80 : 0) | ((~vvvv & 0xf) << 3) | (l ? 0x04 : 0));
  const uint8_t modrm =
      static_cast<uint8_t>((memory ? 0x06 : 0xc0 | (rm & 7)) | ((modrm_reg & 7) << 3));
  return {0xc4, byte1, byte2, opcode, modrm};
}

TEST(BmiOracle, EveryFormMatchesHost) {
  HostComparison host;
  Inputs gen(9);
  gen.randomize(host.data());
  struct Form {
    uint8_t opcode;
    int digit;  // -1: /r (ANDN, BEXTR)
  };
  static constexpr Form kForms[] = {{0xf2, -1}, {0xf7, -1}, {0xf3, 1}, {0xf3, 2}, {0xf3, 3}};
  for (const Form& form : kForms) {
    for (bool w : {false, true}) {
      for (bool memory : {false, true}) {
        for (int i = 0; i < 60; ++i) {
          const unsigned reg = i % 2 ? 2 : 10, vvvv = i % 3 ? 1 : 9, rm = i % 5 ? 3 : 11;
          const auto insn = vex(w, false, reg, vvvv, rm, memory, form.opcode, form.digit);
          MachineState in = gen.state();
          if (form.opcode == 0xf7) {  // BEXTR control: start and length around the width
            const uint64_t control = ((gen.next() % 72) << 8) | (gen.next() % 72);
            in.gpr[vvvv] = i % 4 ? control : gen.edgy();
          }
          if (i % 7 == 0) in.gpr[rm] = 0;
          if (!host.matches(insn, in)) break;
        }
      }
    }
  }
}

TEST(BmiOracle, InvalidVexEncodingsRaiseUdLikeHost) {
  HostComparison host;
  Inputs gen(10);
  const MachineState in = gen.state();
  std::vector<uint8_t> l1 = vex(true, true, 2, 1, 3, false, 0xf2);  // ANDN with VEX.L = 1
  EXPECT_TRUE(host.matches(l1, in));
  std::vector<uint8_t> opsize = vex(true, false, 2, 1, 3, false, 0xf2);
  opsize.insert(opsize.begin(), 0x66);  // 66 before VEX
  EXPECT_TRUE(host.matches(opsize, in));
  EXPECT_EQ(host.soft(opsize, in).vector, 6);  // #UD
  EXPECT_EQ(host.soft(l1, in).vector, 6);
}

}  // namespace
}  // namespace cella::diff
