// x87 state bookkeeping: the 64-bit last-instruction and data pointers FXSAVE64 stores, the
// rounding-controlled constants, and the MMX aliasing helpers the MMX semantics use.
#include <gtest/gtest.h>

#include "engines/soft/exec/x87.h"
#include "tests/unit/soft/x87_harness.h"

namespace cella::soft {
namespace {

// A high code address, so the upper half of the 64-bit FIP and FDP matters.
constexpr uint64_t kHigh = 0x00007f1234560000;

TEST(X87State, Fxsave64StoresFullPointersAndOpcode) {
  testing::FlatMemory memory(kHigh, 0x4000);
  CodeCache code;
  x86::CpuidPolicy policy = soft_cpuid_policy();
  SoftCpu cpu(memory, code, policy);
  const uint8_t program[] = {
      0xdb, 0xe3,                                      // fninit
      0xdd, 0x46, 0x28,                                // fld qword [rsi+0x28]
      0x48, 0x0f, 0xae, 0x86, 0x00, 0x01, 0x00, 0x00,  // fxsave64 [rsi+0x100]
      0x0f, 0xae, 0x86, 0x00, 0x03, 0x00, 0x00,        // fxsave [rsi+0x300]
      0x0f, 0x0b,                                      // ud2
  };
  memory.write(kHigh, program);
  const double one = 1.0;
  std::memcpy(memory.host(kHigh + 0x1028), &one, 8);
  x86::ArchState s;
  s.rip = kHigh;
  s.reg(x86::Gpr::kRsi) = kHigh + 0x1000;
  cpu.set_state(s);
  cpu.run(100);
  ASSERT_EQ(cpu.fault.vector, x86::Vector::kInvalidOpcode);
  auto u16 = [&](uint64_t a) {
    uint16_t v;
    std::memcpy(&v, memory.host(a), 2);
    return v;
  };
  auto u64 = [&](uint64_t a) {
    uint64_t v;
    std::memcpy(&v, memory.host(a), 8);
    return v;
  };
  const uint64_t image64 = kHigh + 0x1100, image32 = kHigh + 0x1300;
  EXPECT_EQ(u16(image64 + 6), 0x546);  // FOP: DD & 7, ModRM 46
  EXPECT_EQ(u64(image64 + 8), kHigh + 2);
  EXPECT_EQ(u64(image64 + 16), kHigh + 0x1028);
  EXPECT_EQ(u16(image64 + 2) >> 11, 7u);     // one push: TOP = 7
  EXPECT_EQ(memory.host(image64)[4], 0x80);  // abridged tags: R7 in use
  // The 32-bit layout keeps the low halves of the pointers.
  EXPECT_EQ(u64(image32 + 8) & 0xffffffff, (kHigh + 2) & 0xffffffff);
  EXPECT_EQ(u64(image32 + 16) & 0xffffffff, (kHigh + 0x1028) & 0xffffffff);
}

// FLDPI, FLDL2E, FLDLG2... are rounded by the rounding control (SDM Vol. 1 8.3.8): the four
// modes give the host's values, and rounding down and up differ in the last place.
TEST(X87State, ConstantsFollowRoundingControl) {
  testing::NativeX87 native;
  testing::SoftX87 soft;
  for (uint8_t constant = 0xe8; constant <= 0xee; ++constant) {
    x86::Float80 results[4];
    for (uint16_t rounding = 0; rounding < 4; ++rounding) {
      testing::X87Input in;
      in.state =
          testing::FsaveImage::make(static_cast<uint16_t>(0x037f | rounding << 10), 0, 0xffff);
      const uint8_t insn[] = {0xd9, constant};
      const testing::X87Outcome expected = native.run(insn, in);
      const testing::X87Outcome actual = soft.run(insn, in);
      EXPECT_EQ(expected.state.bytes, actual.state.bytes);
      results[rounding] = actual.state.st(0);
    }
    if (constant == 0xeb) {  // pi: down and toward zero agree; up is one unit larger
      EXPECT_EQ(results[1], results[3]);
      EXPECT_EQ(results[2].significand, results[1].significand + 1);
    }
  }
}

TEST(X87State, MmxAliasing) {
  x86::X87State s;
  s.status = 5 << 11;
  x87::enter_mmx(s);
  EXPECT_EQ(x87::top(s), 0u);
  for (unsigned i = 0; i < 8; ++i) EXPECT_FALSE(x87::is_empty(s, i));
  x87::set_mmx(s, 3, 0x0123456789abcdef);
  EXPECT_EQ(x87::mmx(s, 3), 0x0123456789abcdefu);
  EXPECT_EQ(s.physical[3].sign_exponent, 0xffff);
  EXPECT_EQ((s.tag >> 6) & 3, 2u);  // the contents are a NaN bit pattern: special
  EXPECT_EQ(x87::exact_tags(s), s.tag);
  x87::empty_mmx(s);
  EXPECT_EQ(s.tag, 0xffff);
}

// The register stack helpers keep TOP, tags and values consistent.
TEST(X87State, PushPopAndTags) {
  x86::X87State s;
  x87::push(s, x86::Float80{0, 0});                       // +0: tag "zero"
  x87::push(s, x86::Float80{uint64_t{1} << 63, 0x3fff});  // 1.0: tag "valid"
  EXPECT_EQ(x87::top(s), 6u);
  EXPECT_EQ(s.tag, 0x4fff);  // R7 zero (01), R6 valid (00), the rest empty (11)
  EXPECT_TRUE(x87::can_push(s));
  x87::pop(s);
  EXPECT_EQ(x87::top(s), 7u);
  EXPECT_EQ(s.tag, 0x7fff);
  EXPECT_TRUE(x87::is_empty(s, 1));
}

}  // namespace
}  // namespace cella::soft
