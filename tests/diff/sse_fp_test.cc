// SSE floating point against the host, case by case: every rounding mode, denormals with DAZ and
// FTZ, NaN propagation and signalling, the integer indefinite, and unmasked exceptions (#XM with
// the destination unchanged, the flags of SDM Vol. 1 11.5.3, #UD without CR4.OSXMMEXCPT).
#include <gtest/gtest.h>
#include <xmmintrin.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <limits>
#include <set>
#include <string_view>
#include <thread>

#include "tests/diff/form_instance.h"
#include "tests/diff/simd_check.h"

namespace cella::diff {
namespace {

using Bytes = std::vector<uint8_t>;

uint32_t f32(float v) {
  return std::bit_cast<uint32_t>(v);
}
uint64_t f64(double v) {
  return std::bit_cast<uint64_t>(v);
}
uint64_t pair(uint32_t low, uint32_t high) {
  return low | (uint64_t{high} << 32);
}

constexpr uint32_t kQnanF = 0x7fc00001, kSnanF = 0x7f800001, kDenormF = 0x00000100,
                   kMinNormalF = 0x00800000;
constexpr uint64_t kQnanD = 0x7ff8000000000001, kSnanD = 0x7ff0000000000001,
                   kDenormD = 0x0000000000000100, kMinNormalD = 0x0010000000000000;
constexpr uint32_t kMasked = 0x1f80;
constexpr uint32_t kIm = 1u << 7, kDm = 1u << 8, kZm = 1u << 9, kOm = 1u << 10, kUm = 1u << 11,
                   kPm = 1u << 12;

// Instruction bytes, destination XMM1 and source XMM2 (or EAX/RAX for conversions to integers).
const Bytes kAddss = {0xf3, 0x0f, 0x58, 0xca}, kAddps = {0x0f, 0x58, 0xca},
            kAddsd = {0xf2, 0x0f, 0x58, 0xca}, kAddpd = {0x66, 0x0f, 0x58, 0xca},
            kSubps = {0x0f, 0x5c, 0xca}, kMulss = {0xf3, 0x0f, 0x59, 0xca},
            kMulps = {0x0f, 0x59, 0xca}, kMulsd = {0xf2, 0x0f, 0x59, 0xca},
            kMulpd = {0x66, 0x0f, 0x59, 0xca}, kDivss = {0xf3, 0x0f, 0x5e, 0xca},
            kDivsd = {0xf2, 0x0f, 0x5e, 0xca}, kSqrtsd = {0xf2, 0x0f, 0x51, 0xca},
            kSqrtps = {0x0f, 0x51, 0xca}, kMinps = {0x0f, 0x5d, 0xca}, kMaxps = {0x0f, 0x5f, 0xca},
            kMinsd = {0xf2, 0x0f, 0x5d, 0xca}, kCvtsd2si = {0xf2, 0x0f, 0x2d, 0xc2},
            kCvtsd2si64 = {0xf2, 0x48, 0x0f, 0x2d, 0xc2}, kCvttsd2si = {0xf2, 0x0f, 0x2c, 0xc2},
            kCvttss2si64 = {0xf3, 0x48, 0x0f, 0x2c, 0xc2}, kCvtss2si = {0xf3, 0x0f, 0x2d, 0xc2},
            kCvtpd2ps = {0x66, 0x0f, 0x5a, 0xca}, kCvtsd2ss = {0xf2, 0x0f, 0x5a, 0xca},
            kCvtps2pd = {0x0f, 0x5a, 0xca}, kCvtsi2ss64 = {0xf3, 0x48, 0x0f, 0x2a, 0xc8},
            kCvtsi2sd64 = {0xf2, 0x48, 0x0f, 0x2a, 0xc8}, kCvtdq2ps = {0x0f, 0x5b, 0xca},
            kCvtps2dq = {0x66, 0x0f, 0x5b, 0xca}, kCvtpd2dq = {0xf2, 0x0f, 0xe6, 0xca},
            kHaddps = {0xf2, 0x0f, 0x7c, 0xca}, kHsubpd = {0x66, 0x0f, 0x7d, 0xca},
            kAddsubpd = {0x66, 0x0f, 0xd0, 0xca}, kAddsubps = {0xf2, 0x0f, 0xd0, 0xca},
            kComiss = {0x0f, 0x2f, 0xca}, kUcomiss = {0x0f, 0x2e, 0xca},
            kComisd = {0x66, 0x0f, 0x2f, 0xca}, kUcomisd = {0x66, 0x0f, 0x2e, 0xca},
            kRcpps = {0x0f, 0x53, 0xca}, kRsqrtss = {0xf3, 0x0f, 0x52, 0xca},
            kCvtpi2ps = {0x0f, 0x2a, 0xca};
Bytes cmpps(uint8_t imm) {
  return {0x0f, 0xc2, 0xca, imm};
}
Bytes cmpsd(uint8_t imm) {
  return {0xf2, 0x0f, 0xc2, 0xca, imm};
}
Bytes roundsd(uint8_t imm) {
  return {0x66, 0x0f, 0x3a, 0x0b, 0xca, imm};
}
Bytes roundps(uint8_t imm) {
  return {0x66, 0x0f, 0x3a, 0x08, 0xca, imm};
}
Bytes dpps(uint8_t imm) {
  return {0x66, 0x0f, 0x3a, 0x40, 0xca, imm};
}

class SseFp : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(check_.ready()); }

  // Runs natively and on the software CPU, expects identical outcomes, returns the native one.
  Outcome check(const Bytes& bytes, const MachineState& in) {
    Outcome native;
    EXPECT_EQ(check_.compare(bytes, in, &native), "") << "mxcsr " << std::hex << mxcsr_of(in);
    return native;
  }
  Outcome check(const Bytes& bytes, uint32_t mxcsr, uint64_t dst_low, uint64_t dst_high,
                uint64_t src_low, uint64_t src_high, uint64_t rax = 0) {
    MachineState in = simd_state(mxcsr);
    set_xmm(in, 1, dst_low, dst_high);
    set_xmm(in, 2, src_low, src_high);
    in.gpr[0] = rax;
    return check(bytes, in);
  }

  SimdCheck check_;
};

TEST_F(SseFp, EveryRoundingModeMatchesTheHost) {
  struct Case {
    Bytes bytes;
    uint64_t dst, src, rax;
  };
  const Case cases[] = {
      {kCvtsd2si, 0, f64(2.5), 0},
      {kCvtsd2si, 0, f64(-2.5), 0},
      {kCvtsd2si64, 0, f64(-3.5e15 + 0.5), 0},
      {kCvtss2si, 0, f32(1.5f), 0},
      {kCvtpd2ps, 0, f64(1.0 / 3), 0},
      {kCvtsd2ss, 0, f64(-1.0 / 3), 0},
      {kAddsd, f64(1.0), f64(DBL_EPSILON / 3), 0},
      {kAddss, f32(1.0f), f32(-FLT_EPSILON / 3), 0},
      {kDivss, f32(1.0f), f32(3.0f), 0},
      {kMulpd, f64(1.0 / 3), f64(3.0), 0},
      {kSqrtsd, 0, f64(2.0), 0},
      {kCvtsi2ss64, 0, 0, (uint64_t{1} << 24) + 1},
      {kCvtsi2sd64, 0, 0, (uint64_t{1} << 62) + 1},
      {kCvtdq2ps, 0, 0x01000001, 0},
      {kCvtps2dq, 0, pair(f32(-0.5f), f32(0.5f)), 0},
      {roundsd(4), 0, f64(-1.5), 0},  // imm8 bit 2: the MXCSR rounding mode
      {kHaddps, pair(f32(1.0f), f32(FLT_EPSILON / 4)), 0, 0},
  };
  for (const Case& c : cases) {
    std::set<std::pair<uint64_t, uint64_t>> results;
    for (uint32_t rc = 0; rc < 4; ++rc) {
      const Outcome native = check(c.bytes, kMasked | (rc << 13), c.dst, 0, c.src, 0, c.rax);
      results.insert({xmm_low(native.state, 1), native.state.gpr[0]});
    }
    EXPECT_GT(results.size(), 1u) << hex(c.bytes) << ": the rounding mode made no difference";
  }
}

TEST_F(SseFp, DenormalsWithDazAndFtz) {
  struct Case {
    Bytes bytes;
    uint64_t dst, src;
  };
  const Case cases[] = {
      {kMulss, kMinNormalF, f32(0.5f)},  // exact tiny result
      {kMulss, kMinNormalF, f32(0.3f)},  // inexact tiny result
      {kAddss, kDenormF, kDenormF},
      {kAddps, pair(kDenormF, f32(1.0f)), pair(f32(-0.0f), kDenormF)},
      {kMulsd, kMinNormalD, f64(0.75)},
      {kAddpd, kDenormD, f64(1.0)},
      {kCvtsd2ss, 0, f64(1e-40)},
      {kCvtps2pd, 0, pair(kDenormF, kDenormF | 0x80000000)},
      {kComiss, kDenormF, 0},
      {kMinsd, kDenormD, f64(-0.0)},
      {kSqrtps, 0, pair(kDenormF, kMinNormalF)},
      {kCvtss2si, 0, kDenormF},
      {roundps(0), 0, pair(kDenormF, 0x80000001)},
  };
  for (const Case& c : cases) {
    std::set<uint64_t> outcomes;
    for (uint32_t mode : {0u, 0x40u, 0x8000u, 0x8040u}) {  // DAZ, FTZ
      const Outcome native = check(c.bytes, kMasked | mode, c.dst, 0, c.src, 0);
      outcomes.insert(xmm_low(native.state, 1) ^ (uint64_t{mxcsr_of(native.state)} << 32) ^
                      native.state.rflags);
    }
    EXPECT_GT(outcomes.size(), 1u) << hex(c.bytes) << ": DAZ/FTZ made no difference";
  }
}

TEST_F(SseFp, NanPropagationAndSignalling) {
  const uint32_t floats[] = {kQnanF,         kSnanF, kQnanF | 0x80000000, f32(1.0f), f32(INFINITY),
                             f32(-INFINITY), 0,      0x80000000};
  for (uint32_t a : floats) {
    for (uint32_t b : floats) {
      for (const Bytes& bytes : {kAddps, kMulps, kMinps, kMaxps, kComiss, kUcomiss, kDivss,
                                 kCvtps2pd, kSqrtps, kHaddps, kAddsubps}) {
        check(bytes, kMasked, pair(a, b), pair(b, a), pair(b, a), pair(a, a));
      }
      for (uint8_t predicate = 0; predicate < 8; ++predicate) {
        check(cmpps(predicate), kMasked, pair(a, b), 0, pair(b, a), 0);
      }
    }
  }
  const uint64_t doubles[] = {kQnanD, kSnanD, f64(-INFINITY), f64(0.0), f64(-1.0)};
  for (uint64_t a : doubles) {
    for (uint64_t b : doubles) {
      for (const Bytes& bytes : {kAddsd, kComisd, kUcomisd, kCvtpd2ps, kSqrtsd, kHsubpd, kAddsubpd,
                                 cmpsd(1), cmpsd(4), roundsd(1)}) {
        check(bytes, kMasked, a, b, b, a);
      }
    }
  }
}

TEST_F(SseFp, ConversionsGiveTheIntegerIndefinite) {
  struct Case {
    Bytes bytes;
    uint64_t src;
    uint64_t expected;
  };
  const Case cases[] = {
      {kCvttsd2si, kQnanD, 0x80000000},
      {kCvtsd2si, f64(2147483648.0), 0x80000000},
      {kCvtsd2si, f64(-2147483649.0), 0x80000000},
      {kCvtsd2si64, f64(INFINITY), 0x8000000000000000},
      {kCvttss2si64, f32(9.3e18f), 0x8000000000000000},
      {kCvtss2si, kSnanF, 0x80000000},
  };
  for (const Case& c : cases) {
    const Outcome native = check(c.bytes, kMasked, 0, 0, c.src, 0, 12345);
    EXPECT_EQ(native.state.gpr[0], c.expected) << hex(c.bytes);
    EXPECT_TRUE(mxcsr_of(native.state) & 1) << hex(c.bytes) << ": IE expected";
  }
  // Packed: every out-of-range lane becomes 80000000H.
  const Outcome native = check(kCvtpd2dq, kMasked, 0, 0, f64(NAN), f64(-3e9));
  EXPECT_EQ(xmm_low(native.state, 1), 0x8000000080000000u);
}

TEST_F(SseFp, UnmaskedExceptionsRaiseXmWithTheDestinationUnchanged) {
  struct Case {
    const char* what;
    Bytes bytes;
    uint32_t unmask;
    uint64_t dst_low, dst_high, src_low, src_high;
  };
  const uint32_t kFltMax = f32(FLT_MAX), kDblMaxHigh = 0;
  (void)kDblMaxHigh;
  const Case cases[] = {
      {"0/0 invalid", kDivss, kIm, 0, 0, 0, 0},
      {"1/0", kDivss, kZm, f32(1.0f), 0, 0, 0},
      {"SNaN", kAddps, kIm, kSnanF, 0, f32(1.0f), 0},
      {"QNaN compare", kComiss, kIm, kQnanF, 0, 0, 0},
      {"denormal operand", kAddsd, kDm, kDenormD, 0, f64(1.0), 0},
      {"inexact", kDivss, kPm, f32(1.0f), 0, f32(3.0f), 0},
      {"exact overflow", kMulss, kOm, kFltMax, 0, f32(2.0f), 0},
      {"inexact overflow", kMulss, kOm, kFltMax, 0, f32(1.1f), 0},
      {"overflow, precision unmasked too", kMulss, kOm | kPm, kFltMax, 0, f32(1.5f), 0},
      {"double overflow", kMulsd, kOm, f64(DBL_MAX), 0, f64(3.0), 0},
      {"add overflow", kAddsd, kOm, f64(DBL_MAX), 0, f64(DBL_MAX), 0},
      {"add overflow, far operand", kAddss, kOm, kFltMax, 0, kFltMax, 0},
      {"divide overflow", kDivsd, kOm, f64(DBL_MAX), 0, f64(0.25), 0},
      {"exact underflow", kMulss, kUm, kMinNormalF, 0, f32(0.5f), 0},
      {"inexact underflow", kMulss, kUm, kMinNormalF, 0, f32(0.3f), 0},
      {"exact tiny sum", kAddss, kUm, kDenormF, 0, 0, 0},
      {"double underflow", kMulsd, kUm, kMinNormalD, 0, f64(1.0 / 3), 0},
      {"divide underflow", kDivsd, kUm, kMinNormalD, 0, f64(3.0), 0},
      {"narrowing overflow", kCvtpd2ps, kOm, 0, 0, f64(1e39), f64(1.0)},
      {"narrowing exact underflow", kCvtsd2ss, kUm, 0, 0, f64(std::ldexp(1.0, -130)), 0},
      {"narrowing inexact underflow", kCvtsd2ss, kUm, 0, 0, f64(1e-40), 0},
      {"invalid in one lane, inexact in another", kDivss, kIm, 0, 0, 0, 0},
      {"packed: pre-computation unmasked, post in other lanes", kMulps, kZm | kIm,
       pair(0, f32(1.0f / 3)), pair(kSnanF, f32(3.0f)), pair(0, f32(3.0f)), pair(f32(1.0f), 0)},
      {"packed: overflow in one lane, inexact in another", kMulps, kOm, pair(kFltMax, f32(1.0f)), 0,
       pair(f32(2.0f), f32(1.0f / 3)), 0},
      {"packed: underflow and overflow", kMulps, kOm | kUm, pair(kFltMax, kMinNormalF), 0,
       pair(f32(4.0f), f32(0.25f)), 0},
      {"packed doubles: exact tiny in lane 1", kMulpd, kUm, f64(1.0), kMinNormalD, f64(1.0),
       f64(0.5)},
      {"horizontal overflow", kHaddps, kOm, pair(kFltMax, kFltMax), 0, 0, 0},
      {"addsub overflow", kAddsubpd, kOm, f64(-DBL_MAX), f64(DBL_MAX), f64(DBL_MAX), f64(DBL_MAX)},
      {"conversion inexact", kCvtdq2ps, kPm, 0, 0, 0x01000001, 0},
      {"conversion invalid", kCvtsd2si, kIm, 0, 0, kQnanD, 0},
      {"CVTPI2PS inexact (MMX transition kept)", kCvtpi2ps, kPm, 0, 0, 0, 0},
      {"RCPPS never signals", kRcpps, 0x1f80, 0, 0, pair(0, kSnanF), 0},
      {"RSQRTSS never signals", kRsqrtss, 0x1f80, 0, 0, 0x80000000 | 0x3f800000, 0},
  };
  for (const Case& c : cases) {
    for (uint32_t extra : {0u, 0x40u, 0x8000u, 0x4000u}) {  // DAZ, FTZ, rounding down
      MachineState in = simd_state((kMasked & ~c.unmask) | extra);
      set_xmm(in, 1, c.dst_low, c.dst_high);
      set_xmm(in, 2, c.src_low, c.src_high);
      set_st(in, 2, 0x0100000100000003, 0);  // CVTPI2PS mm2 (with TOP 0, then 5)
      set_fsw(in, 0x2800);                   // TOP 5
      SCOPED_TRACE(c.what);
      check(c.bytes, in);
    }
  }
  // The cases do fault natively where they should (the harness compares more than that).
  EXPECT_TRUE(check(kMulss, kMasked & ~kOm, f32(FLT_MAX), 0, f32(2.0f), 0).vector >= 0);
  EXPECT_TRUE(check(kAddss, kMasked & ~kUm, kDenormF, 0, 0, 0).vector >= 0);
  EXPECT_FALSE(check(kRcpps, 0, 0, 0, kSnanF, 0).vector >= 0);
}

TEST_F(SseFp, RoundAndDotProductImmediates) {
  for (unsigned imm = 0; imm < 256; imm += 7) {
    for (uint32_t rc = 0; rc < 4; ++rc) {
      check(roundps(static_cast<uint8_t>(imm)), kMasked | (rc << 13), 0, 0,
            pair(f32(2.5f), f32(-0.5f)), pair(f32(1e30f), kSnanF));
      check(dpps(static_cast<uint8_t>(imm)), kMasked | (rc << 13), pair(f32(1.0f / 3), f32(-2.0f)),
            pair(f32(1e38f), kDenormF), pair(f32(3.0f), f32(0.1f)), pair(f32(10.0f), f32(1e-3f)));
    }
  }
}

// The host keeps its own rounding, FTZ, DAZ and masks whatever the guest uses (its sticky
// flags are not Cella's concern: sse_fp.h).
// DPPS/DPPD detect exceptions per multiply and add: an unmasked one stops the instruction at
// its step, with the flags of the steps before.
TEST_F(SseFp, DotProductExceptionsStepByStep) {
  struct Case {
    const char* what;
    Bytes bytes;
    uint32_t unmask;
    uint64_t dst_low, dst_high, src_low, src_high;
  };
  const uint32_t kFltMax = f32(FLT_MAX);
  const Case cases[] = {
      {"tiny products (masked), denormal sum operands (DE unmasked)", dpps(0x3f), kDm,
       pair(kMinNormalF, kMinNormalF), 0, pair(f32(0.3f), f32(0.3f)), 0},
      {"exact tiny product, underflow unmasked", dpps(0x1f), kUm, kMinNormalF, 0, f32(0.5f), 0},
      {"overflow in the pair sum only", dpps(0x33), kOm, pair(kFltMax, kFltMax), 0,
       pair(f32(1.0f), f32(1.0f)), 0},
      {"overflow in the final sum only", dpps(0xf1), kOm, pair(kFltMax, 0), pair(kFltMax, 0),
       pair(f32(1.0f), 0), pair(f32(1.0f), 0)},
      {"inexact products, precision unmasked", dpps(0xff), kPm, pair(f32(0.1f), f32(0.2f)),
       pair(f32(0.3f), f32(0.4f)), pair(f32(3.0f), f32(3.0f)), pair(f32(3.0f), f32(3.0f))},
      {"SNaN in an unselected lane raises nothing", dpps(0x1f), kIm, pair(f32(2.0f), kSnanF), 0,
       pair(f32(2.0f), f32(1.0f)), 0},
      {"DPPD overflow in the sum",
       {0x66, 0x0f, 0x3a, 0x41, 0xca, 0x33},
       kOm,
       f64(DBL_MAX),
       f64(DBL_MAX),
       f64(1.0),
       f64(1.0)},
      {"DPPD denormal sum operand",
       {0x66, 0x0f, 0x3a, 0x41, 0xca, 0x31},
       kDm,
       kMinNormalD,
       kMinNormalD,
       f64(0.25),
       f64(0.25)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    for (uint32_t extra : {0u, 0x40u, 0x8000u, 0x6000u}) {
      const Outcome native = check(c.bytes, (kMasked & ~c.unmask) | extra, c.dst_low, c.dst_high,
                                   c.src_low, c.src_high);
      const bool expect_fault = std::string_view(c.what).find("nothing") == std::string_view::npos;
      if (extra == 0) {
        EXPECT_EQ(native.vector >= 0, expect_fault);
      }
    }
  }
}

// The first guest operation of a thread, with guest control bits unlike the host's, must not
// make them the host's.
TEST_F(SseFp, FirstOperationOfAThreadKeepsTheHostControl) {
  unsigned after = 0, before = 0;
  std::thread([&] {
    before = _mm_getcsr();
    MachineState in = simd_state(0x8040 | 0x6000);  // FTZ DAZ, toward zero
    set_xmm(in, 1, f32(1.0f), 0);
    set_xmm(in, 2, f32(3.0f), 0);
    SoftRunner soft;
    soft.run(kDivss, in, std::vector<uint8_t>(kDataSize));
    soft.run(kDivss, in, std::vector<uint8_t>(kDataSize));
    after = _mm_getcsr();
  }).join();
  EXPECT_EQ(after & ~0x3fu, before & ~0x3fu);
}

TEST_F(SseFp, HostMxcsrControlIsRestored) {
  const unsigned before = _mm_getcsr();
  for (uint32_t guest : {0x0040u | 0x8000u | 0x6000u | 0x3fu, 0x1f80u, 0x1fa0u, 0x0000u}) {
    MachineState in = simd_state(guest);
    set_xmm(in, 1, f32(1.0f), 0);
    set_xmm(in, 2, f32(3.0f), 0);
    check_.soft(kDivss, in);
    check_.soft(kAddps, in);
    EXPECT_EQ(_mm_getcsr() & ~0x3fu, before & ~0x3fu) << std::hex << guest;
  }
}

// Flags the host raised itself, before a guest operation, never reach the guest.
TEST_F(SseFp, HostFlagsDoNotLeakIntoTheGuest) {
  MachineState in = simd_state(0x1f80);
  set_xmm(in, 1, f32(1.0f), 0);
  set_xmm(in, 2, f32(2.0f), 0);
  for (unsigned host_flags : {0x3fu, 0x20u, 0x01u}) {
    _mm_setcsr(_mm_getcsr() | host_flags);
    const Outcome soft = check_.soft(kAddss, in);  // exact: raises nothing
    EXPECT_EQ(mxcsr_of(soft.state), 0x1f80u) << std::hex << host_flags;
  }
  in = simd_state(0x1fa0);  // the guest has PE set already: the host's PE may stay
  _mm_setcsr(_mm_getcsr() | 0x20);
  EXPECT_EQ(mxcsr_of(check_.soft(kAddss, in).state), 0x1fa0u);
}

}  // namespace
}  // namespace cella::diff
