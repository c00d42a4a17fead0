// MMX registers alias the x87 registers (SDM Vol. 1 9.5): an MMX write sets the significand of
// physical register i and its exponent/sign word to FFFFH, every MMX instruction sets TOP to 0
// and tags all registers valid, EMMS tags them empty.
#include <gtest/gtest.h>

#include "tests/unit/soft/simd_harness.h"

namespace cella::testing {
namespace {

using Bytes = std::vector<uint8_t>;

SimdInput x87_in_use() {
  SimdInput in = zero_input();
  in.state.fxsave[3] = 0x28;  // FSW: TOP = 5
  in.state.fxsave[4] = 0x0f;  // R5, R6, R7 and R0 hold values (abridged tags, ST order)
  for (unsigned i = 0; i < 8; ++i) {
    set_mm(in, i, 0x8000000000000000 | i);
    in.state.fxsave[32 + 16 * i + 8] = 0xff;
    in.state.fxsave[32 + 16 * i + 9] = 0x3f;
  }
  return in;
}

TEST(Mmx, WriteSetsExponentTopAndTags) {
  SimdHarness harness;
  SimdInput in = x87_in_use();
  in.state.gpr[0] = 0x0123456789abcdef;
  const Bytes movq_mm3_rax = {0x48, 0x0f, 0x6e, 0xd8};
  Outcome native;
  EXPECT_EQ(harness.compare(movq_mm3_rax, in, &native), "");
  const Outcome soft = harness.run_soft(movq_mm3_rax, in);
  EXPECT_EQ(soft.after.state.fxsave[3] & 0x38, 0);                // TOP = 0
  EXPECT_EQ(soft.after.state.fxsave[4], 0xff);                    // every register valid
  EXPECT_EQ(st_significand(soft.after, 3), 0x0123456789abcdefu);  // ST(3) = R3 now
  EXPECT_EQ(st_exponent(soft.after, 3), 0xffff);
  // Physical R0 was ST(3) before (TOP 5): untouched apart from the tag.
  EXPECT_EQ(st_significand(soft.after, 0), st_significand(in, 3));
  const x86::X87State& x87 = harness.cpu().arch.x87;
  EXPECT_EQ(x87.physical[3].significand, 0x0123456789abcdefu);
  EXPECT_EQ(x87.physical[3].sign_exponent, 0xffff);
  EXPECT_EQ(x87.tag, 0);
}

TEST(Mmx, ReadOnlyInstructionsStillTransition) {
  SimdHarness harness;
  const SimdInput in = x87_in_use();
  const Bytes forms[] = {
      {0x0f, 0x7e, 0xd8},        // MOVD eax, mm3: reads only
      {0x0f, 0x7f, 0x5e, 0x10},  // MOVQ [rsi+16], mm3
      {0x0f, 0xd7, 0xc3},        // PMOVMSKB eax, mm3
      {0x0f, 0xf7, 0xd9},        // MASKMOVQ mm3, mm1
      {0xf3, 0x0f, 0xd6, 0xcb},  // MOVQ2DQ xmm1, mm3
  };
  for (const Bytes& bytes : forms) {
    EXPECT_EQ(harness.compare(bytes, in), "") << hex(bytes);
    const Outcome soft = harness.run_soft(bytes, in);
    EXPECT_EQ(soft.after.state.fxsave[3] & 0x38, 0) << hex(bytes);
    EXPECT_EQ(soft.after.state.fxsave[4], 0xff) << hex(bytes);
  }
}

TEST(Mmx, EmmsEmptiesTheTags) {
  SimdHarness harness;
  const SimdInput in = x87_in_use();
  const Bytes emms = {0x0f, 0x77};
  EXPECT_EQ(harness.compare(emms, in), "");
  harness.run_soft(emms, in);
  EXPECT_EQ(harness.cpu().arch.x87.tag, 0xffff);
  EXPECT_EQ(harness.cpu().arch.x87.status & 0x3800, 0);
}

TEST(Mmx, SseMemoryFormsDoNotTransition) {
  // CVTPI2PS xmm, m64 reads integers from memory, not from an MMX register (SDM Vol. 2A
  // CVTPI2PS): the x87 state stays as it was.
  SimdHarness harness;
  const SimdInput in = x87_in_use();
  const Bytes cvtpi2ps_mem = {0x0f, 0x2a, 0x4e, 0x10},
              cvtpi2pd_mem = {0x66, 0x0f, 0x2a, 0x4e, 0x10};
  for (const Bytes& bytes : {cvtpi2ps_mem, cvtpi2pd_mem}) {
    EXPECT_EQ(harness.compare(bytes, in), "") << hex(bytes);
    const Outcome soft = harness.run_soft(bytes, in);
    EXPECT_EQ(soft.after.state.fxsave[3], 0x28) << hex(bytes);
  }
}

}  // namespace
}  // namespace cella::testing
