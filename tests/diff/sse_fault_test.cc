// SSE/MMX faults against the host: 16-byte alignment (#GP), pending x87 exceptions (#MF),
// LDMXCSR's reserved bits, and memory faults that must change nothing (MMX state included).
// The CR0/CR4 gates, which user mode cannot change, are tested in tests/unit/soft.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "tests/diff/form_instance.h"
#include "tests/diff/simd_check.h"

namespace cella::diff {
namespace {

using Bytes = std::vector<uint8_t>;
constexpr int kGp = 13, kPf = 14, kMf = 16;

// ModRM 4E 01: register 1 and [RSI + 1], which is misaligned (RSI is 16-byte aligned).
const Bytes kAlignedForms[] = {
    {0x0f, 0x28, 0x4e, 0x01},              // MOVAPS xmm1, m128
    {0x0f, 0x29, 0x4e, 0x01},              // MOVAPS m128, xmm1
    {0x66, 0x0f, 0x6f, 0x4e, 0x01},        // MOVDQA
    {0x66, 0x0f, 0x7f, 0x4e, 0x01},        // MOVDQA store
    {0x66, 0x0f, 0xe7, 0x4e, 0x01},        // MOVNTDQ
    {0x0f, 0x2b, 0x4e, 0x01},              // MOVNTPS
    {0x66, 0x0f, 0x38, 0x2a, 0x4e, 0x01},  // MOVNTDQA
    {0x66, 0x0f, 0xfc, 0x4e, 0x01},        // PADDB
    {0x0f, 0x58, 0x4e, 0x01},              // ADDPS
    {0x66, 0x0f, 0x70, 0x4e, 0x01, 0x1b},  // PSHUFD
    {0x66, 0x0f, 0x38, 0x17, 0x4e, 0x01},  // PTEST
    {0x66, 0x0f, 0x2d, 0x4e, 0x01},        // CVTPD2PI mm1, m128
    {0xf3, 0x0f, 0x16, 0x4e, 0x01},        // MOVSHDUP
    {0x66, 0x0f, 0xd1, 0x4e, 0x01},        // PSRLW xmm1, m128 (the count operand too)
};
const Bytes kUnalignedForms[] = {
    {0x0f, 0x10, 0x4e, 0x01},              // MOVUPS
    {0x0f, 0x11, 0x4e, 0x01},              // MOVUPS store
    {0xf3, 0x0f, 0x6f, 0x4e, 0x01},        // MOVDQU
    {0xf2, 0x0f, 0xf0, 0x4e, 0x01},        // LDDQU
    {0xf3, 0x0f, 0x58, 0x4e, 0x01},        // ADDSS m32
    {0xf3, 0x0f, 0x7e, 0x4e, 0x01},        // MOVQ xmm1, m64
    {0x66, 0x0f, 0x38, 0x30, 0x4e, 0x01},  // PMOVZXBW m64
    {0xf2, 0x0f, 0x12, 0x4e, 0x01},        // MOVDDUP m64
    {0x0f, 0xfc, 0x4e, 0x01},              // PADDB mm1, m64
    {0x0f, 0x16, 0x4e, 0x01},              // MOVHPS
};

class SseFault : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(check_.ready()); }
  SimdCheck check_;
};

TEST_F(SseFault, MisalignedVectorOperandsRaiseGp) {
  std::mt19937_64 rng(1);
  std::vector<uint8_t> data(kDataSize);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  for (const Bytes& bytes : kAlignedForms) {
    Outcome native;
    EXPECT_EQ(check_.compare(bytes, simd_state(), &native, data), "");
    EXPECT_EQ(native.vector, kGp) << hex(bytes);
  }
  for (const Bytes& bytes : kUnalignedForms) {
    Outcome native;
    EXPECT_EQ(check_.compare(bytes, simd_state(), &native, data), "");
    EXPECT_EQ(native.vector, -1) << hex(bytes);
  }
}

TEST_F(SseFault, PendingX87ExceptionRaisesMfForMmxOnly) {
  const Bytes mmx_forms[] = {{0x0f, 0xfc, 0xca}, {0x0f, 0x77},       {0x0f, 0x6e, 0xc8},
                             {0x0f, 0x2a, 0xca}, {0x0f, 0x2d, 0xca}, {0xf3, 0x0f, 0xd6, 0xca}};
  const Bytes sse_forms[] = {{0x0f, 0x58, 0xca}, {0x0f, 0x2a, 0x0e}, {0x66, 0x0f, 0xfc, 0xca}};
  MachineState in = simd_state();
  in.fx[0] = 0x7e;      // FCW: IM unmasked
  set_fsw(in, 0x9881);  // B, ES, IE, TOP 3
  for (const Bytes& bytes : mmx_forms) {
    Outcome native;
    EXPECT_EQ(check_.compare(bytes, in, &native), "");
    EXPECT_EQ(native.vector, kMf) << hex(bytes);
  }
  for (const Bytes& bytes : sse_forms) {
    Outcome native;
    EXPECT_EQ(check_.compare(bytes, in, &native), "");
    EXPECT_EQ(native.vector, -1) << hex(bytes);
  }
}

TEST_F(SseFault, LdmxcsrRejectsReservedBits) {
  const Bytes ldmxcsr = {0x0f, 0xae, 0x56, 0x00}, stmxcsr = {0x0f, 0xae, 0x5e, 0x10};
  // (Not bit 17: AMD hosts accept their misaligned-SSE mode bit there; Cella's MXCSR_MASK is
  // Intel's FFFFH, fxsave.h.)
  for (uint32_t value : {0x1f80u, 0xffffu, 0x10000u, 0x80001f80u, 0x1fbfu, 0x40000u}) {
    std::vector<uint8_t> data(kDataSize);
    std::memcpy(&data[kRsiData - kDataAddress], &value, 4);
    Outcome native;
    EXPECT_EQ(check_.compare(ldmxcsr, simd_state(), &native, data), "") << std::hex << value;
    EXPECT_EQ(native.vector, value > 0xffff ? kGp : -1) << std::hex << value;
    EXPECT_EQ(check_.compare(stmxcsr, simd_state(value & 0xffff)), "") << std::hex << value;
  }
}

// Accesses that run past the data area into unmapped memory fault and change nothing: no
// partial store, no register written, no x87-to-MMX transition.
TEST_F(SseFault, PageFaultsChangeNothing) {
  const uint64_t end = kDataAddress + kDataSize;
  auto at = [](Bytes bytes, uint64_t address) {  // [RSI + disp32] reaching `address`
    const uint32_t disp = static_cast<uint32_t>(address - kRsiData);
    for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<uint8_t>(disp >> (8 * i)));
    return bytes;
  };
  struct Case {
    Bytes bytes;
    int vector;
  };
  const Case cases[] = {
      {at({0xf3, 0x0f, 0x6f, 0x8e}, end - 8), kPf},        // MOVDQU xmm1, m128
      {at({0xf3, 0x0f, 0x7f, 0x8e}, end - 8), kPf},        // MOVDQU m128, xmm1
      {at({0x0f, 0x11, 0x8e}, end - 4), kPf},              // MOVUPS m128, xmm1
      {at({0x66, 0x0f, 0x38, 0x20, 0x8e}, end - 8), -1},   // PMOVSXBW m64: fits
      {at({0x66, 0x0f, 0x38, 0x20, 0x8e}, end - 7), kPf},  // one byte over
      {at({0x0f, 0xfc, 0x8e}, end - 4), kPf},              // PADDB mm1, m64: TOP stays
      {at({0x0f, 0x7f, 0x8e}, end - 1), kPf},              // MOVQ m64, mm1
      {at({0x0f, 0xae, 0x96}, end - 2), kPf},              // LDMXCSR
  };
  MachineState in = simd_state();
  set_fsw(in, 0x2000);  // TOP 4
  set_xmm(in, 1, 0x1111111111111111, 0x2222222222222222);
  set_st(in, 5, 0x3333333333333333, 0x4000);  // MM1 once TOP is 0
  for (const Case& c : cases) {
    Outcome native;
    EXPECT_EQ(check_.compare(c.bytes, in, &native), "");
    EXPECT_EQ(native.vector, c.vector) << hex(c.bytes);
  }
}

// MASKMOVDQU/MASKMOVQ check all their bytes for writing whatever the mask.
TEST_F(SseFault, MaskedStoreChecksTheWholeOperand) {
  const Bytes maskmovdqu = {0x66, 0x0f, 0xf7, 0xca}, maskmovq = {0x0f, 0xf7, 0xca};
  for (uint64_t mask : {uint64_t{0}, uint64_t{0x80}, uint64_t{0x8080808080808080}}) {
    for (uint64_t rdi :
         {kDataAddress + kDataSize - 8, kDataAddress + kDataSize - 2, kDataAddress + 0x100}) {
      MachineState in = simd_state();
      set_xmm(in, 1, 0x4242424242424242, 0x4343434343434343);
      set_xmm(in, 2, mask, 0);
      set_st(in, 1, 0x4444444444444444, 0xffff);
      set_st(in, 2, mask, 0xffff);
      in.gpr[7] = rdi;
      Outcome native;
      EXPECT_EQ(check_.compare(maskmovdqu, in, &native), "");
      EXPECT_EQ(native.vector, rdi == kDataAddress + 0x100 ? -1 : kPf);
      EXPECT_EQ(check_.compare(maskmovq, in, &native), "");
    }
  }
}

}  // namespace
}  // namespace cella::diff
