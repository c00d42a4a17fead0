// Integer SIMD at the edges: saturation, wrapping, shift counts beyond the lane width, and the
// SSSE3/SSE4.1 special cases, on XMM and MMX registers, against the host and against the values
// the SDM defines.
#include <gtest/gtest.h>

#include "tests/diff/simd_check.h"

namespace cella::diff {
namespace {

using Bytes = std::vector<uint8_t>;

class SseInt : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(check_.ready()); }

  // dst XMM1/MM1, src XMM2/MM2; returns the native outcome after checking the soft CPU agrees.
  Outcome check(const Bytes& bytes, uint64_t dst_low, uint64_t dst_high, uint64_t src_low,
                uint64_t src_high) {
    MachineState in = simd_state();
    set_xmm(in, 1, dst_low, dst_high);
    set_xmm(in, 2, src_low, src_high);
    set_st(in, 1, dst_low, 0xffff);
    set_st(in, 2, src_low, 0xffff);
    Outcome native;
    EXPECT_EQ(check_.compare(bytes, in, &native), "");
    return native;
  }
  uint64_t low(const Bytes& bytes, uint64_t dst_low, uint64_t dst_high, uint64_t src_low,
               uint64_t src_high) {
    return xmm_low(check(bytes, dst_low, dst_high, src_low, src_high).state, 1);
  }
  uint64_t mm(const Bytes& bytes, uint64_t dst, uint64_t src) {
    return st_significand(check(bytes, dst, 0, src, 0).state, 1);
  }

  SimdCheck check_;
};

TEST_F(SseInt, SaturatingArithmetic) {
  // PADDSB: 7F+01 = 7F, 80+80 = 80, 7F+FF = 7E, FF+FF = FE.
  EXPECT_EQ(low({0x66, 0x0f, 0xec, 0xca}, 0xff7f807f, 0, 0xffff8001, 0), 0xfe7e807fu);
  // PADDUSB: FF+01 = FF, 80+80 = FF.
  EXPECT_EQ(low({0x66, 0x0f, 0xdc, 0xca}, 0x80ff, 0, 0x8001, 0), 0xffffu);
  // PSUBUSW: 0 - 1 = 0; PSUBSW: 8000 - 1 = 8000.
  EXPECT_EQ(low({0x66, 0x0f, 0xd9, 0xca}, 0x0000, 0, 0x0001, 0), 0u);
  EXPECT_EQ(low({0x66, 0x0f, 0xe9, 0xca}, 0x8000, 0, 0x0001, 0), 0x8000u);
  // MMX PADDSW: 7FFF + 7FFF = 7FFF.
  EXPECT_EQ(mm({0x0f, 0xed, 0xca}, 0x7fff, 0x7fff), 0x7fffu);
}

TEST_F(SseInt, PackingSaturates) {
  // PACKSSWB: 1234 -> 7F, 8000 -> 80, FF80 -> 80, 007F -> 7F.
  EXPECT_EQ(low({0x66, 0x0f, 0x63, 0xca}, 0x007fff8080001234, 0, 0, 0), 0x7f80807fu);
  // PACKUSWB: FFFF (-1) -> 00, 0100 -> FF, 0080 -> 80.
  EXPECT_EQ(low({0x66, 0x0f, 0x67, 0xca}, 0x000000800100ffff, 0, 0, 0) & 0xffffff, 0x80ff00u);
  // PACKSSDW: 80000000 -> 8000, 00010000 -> 7FFF.
  EXPECT_EQ(low({0x66, 0x0f, 0x6b, 0xca}, 0x0001000080000000, 0, 0, 0) & 0xffffffff, 0x7fff8000u);
  // PACKUSDW (SSE4.1): FFFFFFFF -> 0000, 00010000 -> FFFF.
  EXPECT_EQ(low({0x66, 0x0f, 0x38, 0x2b, 0xca}, 0x00010000ffffffff, 0, 0, 0) & 0xffffffff,
            0xffff0000u);
  // MMX PACKSSWB takes the destination's words first.
  EXPECT_EQ(mm({0x0f, 0x63, 0xca}, 0x0001000200030004, 0x7fff800000000000), 0x7f80000001020304u);
}

TEST_F(SseInt, MultiplyAddEdges) {
  // PMADDWD: (-32768)^2 + (-32768)^2 wraps to 80000000H.
  EXPECT_EQ(low({0x66, 0x0f, 0xf5, 0xca}, 0x80008000, 0, 0x80008000, 0) & 0xffffffff, 0x80000000u);
  // PMADDUBSW: FF*7F + FF*7F = 7E02 saturates to 7FFF; FF*80 + FF*80 saturates to 8000.
  EXPECT_EQ(low({0x66, 0x0f, 0x38, 0x04, 0xca}, 0xffffffff, 0, 0x80807f7f, 0) & 0xffffffff,
            0x80007fffu);
  // PMULHRSW: 8000 * 8000 = 8000 (the rounding wraps).
  EXPECT_EQ(low({0x66, 0x0f, 0x38, 0x0b, 0xca}, 0x8000, 0, 0x8000, 0) & 0xffff, 0x8000u);
  // PMULUDQ and PMULDQ: unsigned and signed even lanes.
  EXPECT_EQ(low({0x66, 0x0f, 0xf4, 0xca}, 0xffffffff, 0, 0xffffffff, 0), 0xfffffffe00000001u);
  EXPECT_EQ(low({0x66, 0x0f, 0x38, 0x28, 0xca}, 0xffffffff, 0, 0x00000002, 0), 0xfffffffffffffffeu);
  // PSADBW: |00-FF| * 8 = 7F8.
  EXPECT_EQ(low({0x66, 0x0f, 0xf6, 0xca}, 0, 0, ~uint64_t{0}, 0), 0x7f8u);
}

TEST_F(SseInt, SignsAndAbsoluteValues) {
  // PABSB 80 -> 80, FF -> 01; PSIGNW with 8000 x negative -> 8000.
  EXPECT_EQ(low({0x66, 0x0f, 0x38, 0x1c, 0xca}, 0, 0, 0x00ff80, 0) & 0xffffff, 0x000180u);
  EXPECT_EQ(low({0x66, 0x0f, 0x38, 0x09, 0xca}, 0x000500058000, 0, 0x00000001ffff, 0),
            0x00000005'8000u);
  // PHADDSW: 7FFF + 0001 saturates; PHSUBD wraps.
  EXPECT_EQ(low({0x66, 0x0f, 0x38, 0x03, 0xca}, 0x00017fff, 0, 0, 0) & 0xffff, 0x7fffu);
  EXPECT_EQ(low({0x66, 0x0f, 0x38, 0x06, 0xca}, 0x0000000180000000, 0, 0, 0) & 0xffffffff,
            0x7fffffffu);
}

TEST_F(SseInt, ShiftCountsBeyondTheLane) {
  for (uint64_t count : {0ull, 1ull, 15ull, 16ull, 31ull, 32ull, 63ull, 64ull, 0x100000000ull}) {
    check({0x66, 0x0f, 0xe1, 0xca}, 0x80007fff80017ffe, 1, count, 0);  // PSRAW
    check({0x66, 0x0f, 0xd2, 0xca}, 0x80007fff80017ffe, 2, count, 0);  // PSRLD
    check({0x66, 0x0f, 0xf3, 0xca}, 0x80007fff80017ffe, 3, count, 0);  // PSLLQ
    check({0x0f, 0xe2, 0xca}, 0x80007fff80017ffe, 0, count, 0);        // PSRAD mm
  }
  // PSRAW by 16 or more fills with the sign.
  EXPECT_EQ(low({0x66, 0x0f, 0xe1, 0xca}, 0x80007fff, 0, 99, 0) & 0xffffffff, 0xffff0000u);
  for (uint8_t imm : {0, 1, 7, 8, 15, 16, 17, 255}) {
    check({0x66, 0x0f, 0x73, 0xd9, imm}, 0x0123456789abcdef, 0xfedcba9876543210, 0, 0);  // PSRLDQ
    check({0x66, 0x0f, 0x73, 0xf9, imm}, 0x0123456789abcdef, 0xfedcba9876543210, 0, 0);  // PSLLDQ
    check({0x66, 0x0f, 0x71, 0xe1, imm}, 0x8000ffff00017fff, 0, 0, 0);                   // PSRAW
    check({0x0f, 0x73, 0xd1, imm}, 0x8000ffff00017fff, 0, 0, 0);  // PSRLQ mm1, imm
  }
}

TEST_F(SseInt, Sse41Specials) {
  // PHMINPOSUW: the first of equal minima.
  EXPECT_EQ(low({0x66, 0x0f, 0x38, 0x41, 0xca}, 0, 0, 0x0003000500030009, 0x0004000600030007),
            0x00010003u);
  // PTEST: ZF and CF from the two ANDs.
  const Bytes ptest = {0x66, 0x0f, 0x38, 0x17, 0xca};
  EXPECT_EQ(check(ptest, 0xf0, 0, 0x0f, 0).state.rflags & 0x8d5, 0x40u);  // ZF
  EXPECT_EQ(check(ptest, 0xff, 0, 0x0f, 0).state.rflags & 0x8d5, 0x01u);  // CF
  EXPECT_EQ(check(ptest, 0x0f, 0, 0xff, 0).state.rflags & 0x8d5, 0x00u);
  for (uint8_t imm = 0; imm < 8; ++imm) {  // MPSADBW: every block selection
    check({0x66, 0x0f, 0x3a, 0x42, 0xca, imm}, 0x0123456789abcdef, 0xfedcba9876543210,
          0x00ff10ef20df30cf, 0x40bf50af609f708f);
  }
  for (unsigned imm = 0; imm < 256; imm += 5) {  // INSERTPS register form
    check({0x66, 0x0f, 0x3a, 0x21, 0xca, static_cast<uint8_t>(imm)}, 0x1111111122222222,
          0x3333333344444444, 0x5555555566666666, 0x7777777788888888);
  }
}

}  // namespace
}  // namespace cella::diff
