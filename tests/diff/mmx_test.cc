// MMX registers alias the x87 registers (SDM Vol. 1 9.5): an MMX write sets the significand of
// physical register i and its exponent/sign word to FFFFH, every MMX instruction sets TOP to 0
// and marks all registers in use, EMMS marks them empty. Against the host, FNSTENV included.
#include <gtest/gtest.h>

#include <cstring>

#include "tests/diff/form_instance.h"
#include "tests/diff/simd_check.h"

namespace cella::diff {
namespace {

using Bytes = std::vector<uint8_t>;

// TOP = 5 and four registers in use (ST(0)..ST(3): physical R5, R6, R7, R0), one of them zero.
MachineState x87_in_use() {
  MachineState in = simd_state();
  set_fsw(in, 0x2800);
  set_st(in, 0, 0x8000000000000005, 0x3fff);
  set_st(in, 1, 0, 0);  // zero
  set_st(in, 2, 0xc000000000000000, 0x7fff);
  set_st(in, 3, 0x8000000000000001, 0xbfff);
  for (unsigned i = 4; i < 8; ++i) {  // empty registers with contents
    std::memcpy(in.fx.data() + 32 + 16 * i, &i, sizeof(i));
  }
  return in;
}

class Mmx : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(check_.ready()); }
  SimdCheck check_;
};

TEST_F(Mmx, WriteSetsExponentTopAndTags) {
  MachineState in = x87_in_use();
  in.gpr[0] = 0x0123456789abcdef;
  const Bytes movq_mm3_rax = {0x48, 0x0f, 0x6e, 0xd8};
  EXPECT_EQ(check_.compare(movq_mm3_rax, in), "");
  const Outcome soft = check_.soft(movq_mm3_rax, in);
  EXPECT_EQ(fsw_of(soft.state) & 0x3800, 0);                      // TOP = 0
  EXPECT_EQ(soft.state.fx[4], 0xff);                              // every register in use
  EXPECT_EQ(st_significand(soft.state, 3), 0x0123456789abcdefu);  // ST(3) = R3 now
  EXPECT_EQ(st_exponent(soft.state, 3), 0xffff);
  EXPECT_EQ(st_significand(soft.state, 0), st_significand(in, 3));  // R0, untouched
}

TEST_F(Mmx, ReadOnlyInstructionsStillTransition) {
  const Bytes forms[] = {
      {0x0f, 0x7e, 0xd8},        // MOVD eax, mm3: reads only
      {0x0f, 0x7f, 0x5e, 0x10},  // MOVQ [rsi+16], mm3
      {0x0f, 0xd7, 0xc3},        // PMOVMSKB eax, mm3
      {0x0f, 0xf7, 0xd9},        // MASKMOVQ mm3, mm1
      {0xf3, 0x0f, 0xd6, 0xcb},  // MOVQ2DQ xmm1, mm3
  };
  for (const Bytes& bytes : forms) {
    EXPECT_EQ(check_.compare(bytes, x87_in_use()), "");
    const Outcome soft = check_.soft(bytes, x87_in_use());
    EXPECT_EQ(fsw_of(soft.state) & 0x3800, 0) << hex(bytes);
    EXPECT_EQ(soft.state.fx[4], 0xff) << hex(bytes);
  }
}

TEST_F(Mmx, EmmsEmptiesTheTagsAndClearsTop) {
  const Bytes emms = {0x0f, 0x77};
  EXPECT_EQ(check_.compare(emms, x87_in_use()), "");
  const Outcome soft = check_.soft(emms, x87_in_use());
  EXPECT_EQ(soft.state.fx[4], 0);
  EXPECT_EQ(fsw_of(soft.state) & 0x3800, 0);
}

// The full tag word after an MMX instruction, as FNSTENV stores it: every register in use, each
// tagged by its contents (valid, zero, special). The soft CPU's is read from its state after the
// MMX instruction alone (FNSTENV itself belongs to the x87 group).
TEST_F(Mmx, FullTagWordFollowsTheContents) {
  const Bytes fnstenv = {0xd9, 0x76, 0x00};  // FNSTENV [RSI+0]
  const Bytes forms[] = {{0x0f, 0xfc, 0xca}, {0x48, 0x0f, 0x6e, 0xd8}, {0x0f, 0x7e, 0xd8}};
  for (const Bytes& bytes : forms) {
    Bytes both = bytes;
    both.insert(both.end(), fnstenv.begin(), fnstenv.end());
    const Outcome native = check_.native(both, x87_in_use());
    ASSERT_EQ(native.vector, -1);
    uint16_t native_tags;  // FNSTENV (64-bit mode): FTW at offset 8
    std::memcpy(&native_tags, native.data.data() + (kRsiData - kDataAddress) + 8, 2);
    SoftRunner soft;
    soft.run(bytes, x87_in_use(), std::vector<uint8_t>(kDataSize));
    EXPECT_EQ(soft.cpu().arch.x87.tag, native_tags) << hex(bytes);
  }
}

TEST_F(Mmx, SseMemoryFormsDoNotTransition) {
  // CVTPI2PS xmm, m64 reads integers from memory, not from an MMX register (SDM Vol. 2A
  // CVTPI2PS): the x87 state stays as it was.
  const Bytes forms[] = {{0x0f, 0x2a, 0x4e, 0x10}, {0x66, 0x0f, 0x2a, 0x4e, 0x10}};
  for (const Bytes& bytes : forms) {
    EXPECT_EQ(check_.compare(bytes, x87_in_use()), "");
    EXPECT_EQ(fsw_of(check_.soft(bytes, x87_in_use()).state), 0x2800) << hex(bytes);
  }
}

}  // namespace
}  // namespace cella::diff
