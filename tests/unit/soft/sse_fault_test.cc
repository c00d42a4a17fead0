// SSE/MMX faults: 16-byte alignment (#GP), the CR0/CR4 gates (#UD, #NM), pending x87
// exceptions (#MF), LDMXCSR's reserved bits, and memory faults that must change nothing.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include "tests/unit/soft/simd_harness.h"

namespace cella::testing {
namespace {

using Bytes = std::vector<uint8_t>;
constexpr int kUd = 6, kNm = 7, kGp = 13, kPf = 14, kMf = 16;

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

TEST(SseFault, MisalignedVectorOperandsRaiseGp) {
  SimdHarness harness;
  std::mt19937_64 rng(1);
  for (const Bytes& bytes : kAlignedForms) {
    const SimdInput in = random_input(rng, false);
    Outcome native;
    EXPECT_EQ(harness.compare(bytes, in, &native), "") << hex(bytes);
    EXPECT_TRUE(native.faulted && native.vector == kGp) << hex(bytes);
  }
  for (const Bytes& bytes : kUnalignedForms) {
    SimdInput in = random_input(rng, false);
    in.state.fxsave[2] = in.state.fxsave[3] = 0;  // no pending x87 exception
    Outcome native;
    EXPECT_EQ(harness.compare(bytes, in, &native), "") << hex(bytes);
    EXPECT_FALSE(native.faulted) << hex(bytes);
  }
}

TEST(SseFault, ControlRegisterGates) {
  struct Case {
    const char* what;
    uint64_t cr0, cr4;
    Bytes bytes;
    int vector;  // 0: executes
  };
  constexpr uint64_t kEm = 1 << 2, kTs = 1 << 3, kBase0 = 0x80050033, kBase4 = 0x3406f0;
  constexpr uint64_t kNoFxsr = kBase4 & ~uint64_t{1 << 9};
  const Bytes addps = {0x0f, 0x58, 0xca}, paddb_mm = {0x0f, 0xfc, 0xca},
              ldmxcsr = {0x0f, 0xae, 0x56, 0x00}, emms = {0x0f, 0x77},
              cvtpi2ps = {0x0f, 0x2a, 0xca}, movnti = {0x0f, 0xc3, 0x06};
  const Case cases[] = {
      {"SSE, CR0.EM", kBase0 | kEm, kBase4, addps, kUd},
      {"SSE, CR0.TS", kBase0 | kTs, kBase4, addps, kNm},
      {"SSE, EM and TS", kBase0 | kEm | kTs, kBase4, addps, kUd},
      {"SSE, no OSFXSR", kBase0, kNoFxsr, addps, kUd},
      {"SSE, no OSFXSR and TS", kBase0 | kTs, kNoFxsr, addps, kUd},
      {"LDMXCSR, CR0.TS", kBase0 | kTs, kBase4, ldmxcsr, kNm},
      {"LDMXCSR, no OSFXSR", kBase0, kNoFxsr, ldmxcsr, kUd},
      {"MMX, CR0.EM", kBase0 | kEm, kBase4, paddb_mm, kUd},
      {"MMX, CR0.TS", kBase0 | kTs, kBase4, paddb_mm, kNm},
      {"MMX, no OSFXSR", kBase0, kNoFxsr, paddb_mm, 0},
      {"EMMS, CR0.TS", kBase0 | kTs, kBase4, emms, kNm},
      {"CVTPI2PS mm, no OSFXSR", kBase0, kNoFxsr, cvtpi2ps, kUd},
      {"MOVNTI (general-purpose), CR0.TS", kBase0 | kTs, kBase4, movnti, 0},
  };
  SimdHarness harness;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    harness.soft_cr0 = c.cr0;
    harness.soft_cr4 = c.cr4;
    SimdInput in = zero_input();
    set_xmm(in, 1, 0x1111, 0x2222);
    set_xmm(in, 2, 0x3333, 0x4444);
    in.state.fxsave[3] = 0x20;  // TOP 4: an MMX instruction would set it to 0
    const Outcome soft = harness.run_soft(c.bytes, in);
    EXPECT_EQ(soft.faulted, c.vector != 0);
    if (c.vector != 0) {
      EXPECT_EQ(soft.vector, c.vector);
      EXPECT_TRUE(same_simd_state(soft.after, in));
    }
  }
}

TEST(SseFault, PendingX87ExceptionRaisesMfForMmxOnly) {
  SimdHarness harness;
  const Bytes mmx_forms[] = {{0x0f, 0xfc, 0xca}, {0x0f, 0x77},       {0x0f, 0x6e, 0xc8},
                             {0x0f, 0x2a, 0xca}, {0x0f, 0x2d, 0xca}, {0xf3, 0x0f, 0xd6, 0xca}};
  const Bytes sse_forms[] = {{0x0f, 0x58, 0xca}, {0x0f, 0x2a, 0x0e}, {0x66, 0x0f, 0xfc, 0xca}};
  SimdInput in = zero_input();
  in.state.fxsave[0] = 0x7e;                             // FCW: IM unmasked
  in.state.fxsave[2] = 0x81, in.state.fxsave[3] = 0x98;  // FSW: B, ES, IE, TOP 3
  for (const Bytes& bytes : mmx_forms) {
    Outcome native;
    EXPECT_EQ(harness.compare(bytes, in, &native), "") << hex(bytes);
    EXPECT_TRUE(native.faulted && native.vector == kMf) << hex(bytes);
  }
  for (const Bytes& bytes : sse_forms) {
    Outcome native;
    EXPECT_EQ(harness.compare(bytes, in, &native), "") << hex(bytes);
    EXPECT_FALSE(native.faulted) << hex(bytes);
  }
}

TEST(SseFault, LdmxcsrRejectsReservedBits) {
  SimdHarness harness;
  const Bytes ldmxcsr = {0x0f, 0xae, 0x56, 0x00}, stmxcsr = {0x0f, 0xae, 0x5e, 0x10};
  // (Not bit 17: AMD hosts accept their misaligned-SSE mode bit there; Cella's MXCSR_MASK is
  // Intel's FFFFH, fxsave.h.)
  for (uint32_t value : {0x1f80u, 0xffffu, 0x10000u, 0x80001f80u, 0x1fbfu, 0x40000u}) {
    SimdInput in = zero_input();
    std::memcpy(in.memory + 64, &value, 4);
    Outcome native;
    EXPECT_EQ(harness.compare(ldmxcsr, in, &native), "") << std::hex << value;
    EXPECT_EQ(native.faulted, value > 0xffff) << std::hex << value;
    if (native.faulted) {
      EXPECT_EQ(native.vector, kGp);
    }
    set_mxcsr(in, value & 0xffff);
    EXPECT_EQ(harness.compare(stmxcsr, in), "") << std::hex << value;
  }
}

// Soft-only: accesses that straddle into a page without access fault and change nothing.
TEST(SseFault, PageFaultsChangeNothing) {
  SimdHarness harness;
  constexpr uint64_t kGuard = SimdHarness::kSoftBase + 0x3000;  // the page after the region
  harness.memory().set_permissions(kGuard, 4096, {false, false, false});
  // [RSI + disp32] with RSI = region + 64: the last 8 bytes of the region's page.
  const uint32_t disp = static_cast<uint32_t>(kGuard - 8 - (SimdHarness::kSoftRegion + 64));
  auto with_disp = [&](Bytes bytes) {
    for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<uint8_t>(disp >> (8 * i)));
    return bytes;
  };
  const Bytes cases[] = {
      with_disp({0xf3, 0x0f, 0x6f, 0x8e}),        // MOVDQU xmm1, m128
      with_disp({0xf3, 0x0f, 0x7f, 0x8e}),        // MOVDQU m128, xmm1
      with_disp({0x0f, 0x11, 0x8e}),              // MOVUPS m128, xmm1
      with_disp({0x66, 0x0f, 0x38, 0x20, 0x8e}),  // PMOVSXBW (8 bytes: fits, no fault)
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    SimdInput in = zero_input();
    set_xmm(in, 1, 0x1111111111111111, 0x2222222222222222);
    in.state.fxsave[3] = 0x20;
    const Outcome soft = harness.run_soft(cases[i], in);
    if (i == 3) {
      EXPECT_FALSE(soft.faulted);
      continue;
    }
    EXPECT_TRUE(soft.faulted && soft.vector == kPf) << hex(cases[i]);
    EXPECT_TRUE(same_simd_state(soft.after, in)) << hex(cases[i]);
    const uint8_t* tail = harness.memory().host(kGuard - 8);
    for (int b = 0; b < 8; ++b) EXPECT_EQ(tail[b], 0) << "partial store";
  }
  // An MMX instruction whose memory operand faults leaves the x87 state (TOP, tags) alone, as
  // the host does (the harness cannot map guard pages natively; native_runner's own test does).
  const Bytes paddb_mm = with_disp({0x0f, 0xfc, 0x8e});
  const Bytes paddb_mm_far = {0x0f, 0xfc, 0x8e, 0x00, 0x10, 0x00, 0x00};  // [RSI + 1000H]
  SimdInput in = zero_input();
  in.state.fxsave[3] = 0x20;
  for (const Bytes& bytes : {paddb_mm, paddb_mm_far}) {
    const Outcome soft = harness.run_soft(bytes, in);
    if (!soft.faulted) continue;  // 8 bytes before the guard page fit
    EXPECT_EQ(soft.vector, kPf);
    EXPECT_TRUE(same_simd_state(soft.after, in));
  }
  EXPECT_TRUE(harness.run_soft(paddb_mm_far, in).faulted);
}

// MASKMOVDQU checks all 16 bytes for writing whatever the mask, on the host and on the soft CPU.
TEST(SseFault, MaskedStoreChecksTheWholeOperand) {
  NativeRunner runner;
  auto* page = static_cast<uint8_t*>(
      ::mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(page, MAP_FAILED);
  ::mprotect(page + 4096, 4096, PROT_READ);
  SimdHarness harness;
  constexpr uint64_t kGuard = SimdHarness::kSoftBase + 0x3000;
  harness.memory().set_permissions(kGuard, 4096, {true, false, false});
  const Bytes maskmovdqu = {0x66, 0x0f, 0xf7, 0xca};
  for (uint64_t mask_low : {uint64_t{0}, uint64_t{0x80}, uint64_t{0x8080808080808080}}) {
    SimdInput in = zero_input();
    set_xmm(in, 1, 0x4242424242424242, 0x4343434343434343);
    set_xmm(in, 2, mask_low, 0);  // never selects a byte on the read-only page
    NativeState native = in.state;
    native.gpr[7] = reinterpret_cast<uint64_t>(page + 4096 - 8);
    const NativeResult host = runner.run(maskmovdqu, native);
    EXPECT_TRUE(host.faulted && host.vector == kPf) << std::hex << mask_low;
    EXPECT_EQ(page[4096 - 8], 0);
  }
  // The soft CPU, with RDI = its read-only page - 8 (set by a LEA before MASKMOVDQU).
  const uint32_t to_guard = static_cast<uint32_t>(kGuard - 8 - (SimdHarness::kSoftRegion + 128));
  Bytes program = {0x48, 0x8d, 0xbf};  // LEA RDI, [RDI + disp32]
  for (int i = 0; i < 4; ++i) program.push_back(static_cast<uint8_t>(to_guard >> (8 * i)));
  program.insert(program.end(), maskmovdqu.begin(), maskmovdqu.end());
  for (uint64_t mask_low : {uint64_t{0}, uint64_t{0x80}}) {
    SimdInput in = zero_input();
    set_xmm(in, 1, 0x4242424242424242, 0x4343434343434343);
    set_xmm(in, 2, mask_low, 0);
    harness.run_soft(program, in);
    EXPECT_EQ(harness.cpu().fault.vector, x86::Vector::kPageFault);
    EXPECT_EQ(harness.cpu().rip, SimdHarness::kSoftBase + 7);  // at MASKMOVDQU
    EXPECT_EQ(*harness.memory().host(kGuard - 8), 0);
  }
  ::munmap(page, 8192);
}

}  // namespace
}  // namespace cella::testing
