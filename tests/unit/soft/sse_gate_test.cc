// The CR0/CR4 gates of the SSE and MMX units (SDM Vol. 3A 13.1.4, Table 13-1; Vol. 2A 2.5),
// which user mode cannot change, so no host comparison: #UD for CR0.EM or a clear CR4.OSFXSR,
// #NM for CR0.TS, #UD instead of #XM without CR4.OSXMMEXCPT; nothing changes when they fault.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "engines/soft/cpu.h"
#include "engines/soft/cpuid.h"
#include "tests/support/flat_memory.h"

namespace cella::soft {
namespace {

using Bytes = std::vector<uint8_t>;
constexpr uint64_t kBase = 0x400000;
constexpr uint64_t kLinuxCr0 = 0x80050033, kLinuxCr4 = 0x6f0;  // OSFXSR and OSXMMEXCPT set
using x86::cr0::kEm;
using x86::cr0::kTs;
using x86::cr4::kOsfxsr;
using x86::cr4::kOsxmmexcpt;

struct Machine {
  testing::FlatMemory memory{kBase, 0x10000};
  CodeCache code;
  x86::CpuidPolicy cpuid = soft_cpuid_policy();
  SoftCpu cpu{memory, code, cpuid};

  // Runs `bytes` then UD2; returns the vector of the instruction's own fault, or -1.
  int run(const Bytes& bytes, x86::ArchState state) {
    Bytes program = bytes;
    program.push_back(0x0f);
    program.push_back(0x0b);
    code.clear();
    memory.write(kBase, program);
    state.rip = kBase;
    state.gpr[6] = kBase + 0x8000;  // RSI: memory operands
    cpu.set_state(state);
    cpu.run(10);
    return cpu.rip == kBase ? static_cast<int>(cpu.fault.vector) : -1;
  }
};

x86::ArchState state_with(uint64_t cr0, uint64_t cr4) {
  x86::ArchState s;
  s.cr0 = cr0;
  s.cr4 = cr4;
  s.x87.status = 4 << 11;  // TOP 4: an MMX instruction would set it to 0
  for (unsigned i = 0; i < 16; ++i) s.xmm[i] = {0x1111 * i, 0x2222 * i};
  return s;
}

TEST(SseGate, ControlRegisterGates) {
  struct Case {
    const char* what;
    uint64_t cr0, cr4;
    Bytes bytes;
    int vector;  // -1: executes
  };
  const uint64_t no_fxsr = kLinuxCr4 & ~kOsfxsr;
  const Bytes addps = {0x0f, 0x58, 0xca}, paddb_mm = {0x0f, 0xfc, 0xca},
              ldmxcsr = {0x0f, 0xae, 0x56, 0x00}, emms = {0x0f, 0x77},
              cvtpi2ps = {0x0f, 0x2a, 0xca}, movnti = {0x0f, 0xc3, 0x06},
              sfence = {0x0f, 0xae, 0xf8};
  const Case cases[] = {
      {"SSE, CR0.EM", kLinuxCr0 | kEm, kLinuxCr4, addps, 6},
      {"SSE, CR0.TS", kLinuxCr0 | kTs, kLinuxCr4, addps, 7},
      {"SSE, EM and TS", kLinuxCr0 | kEm | kTs, kLinuxCr4, addps, 6},
      {"SSE, no OSFXSR", kLinuxCr0, no_fxsr, addps, 6},
      {"SSE, no OSFXSR and TS", kLinuxCr0 | kTs, no_fxsr, addps, 6},
      {"LDMXCSR, CR0.TS", kLinuxCr0 | kTs, kLinuxCr4, ldmxcsr, 7},
      {"LDMXCSR, no OSFXSR", kLinuxCr0, no_fxsr, ldmxcsr, 6},
      {"MMX, CR0.EM", kLinuxCr0 | kEm, kLinuxCr4, paddb_mm, 6},
      {"MMX, CR0.TS", kLinuxCr0 | kTs, kLinuxCr4, paddb_mm, 7},
      {"MMX, no OSFXSR", kLinuxCr0, no_fxsr, paddb_mm, -1},
      {"EMMS, CR0.TS", kLinuxCr0 | kTs, kLinuxCr4, emms, 7},
      {"CVTPI2PS mm, no OSFXSR", kLinuxCr0, no_fxsr, cvtpi2ps, 6},
      {"MOVNTI is general-purpose", kLinuxCr0 | kTs | kEm, no_fxsr, movnti, -1},
      {"SFENCE is not gated", kLinuxCr0 | kTs | kEm, no_fxsr, sfence, -1},
  };
  Machine m;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const x86::ArchState before = state_with(c.cr0, c.cr4);
    EXPECT_EQ(m.run(c.bytes, before), c.vector);
    if (c.vector >= 0) {
      const x86::ArchState after = m.cpu.state();
      EXPECT_EQ(after.xmm, before.xmm);
      EXPECT_EQ(after.x87, before.x87);
      EXPECT_EQ(after.mxcsr, before.mxcsr);
    }
  }
}

TEST(SseGate, UnmaskedExceptionWithoutOsxmmexcptIsUd) {
  Machine m;
  for (uint64_t cr4 : {kLinuxCr4, kLinuxCr4 & ~kOsxmmexcpt}) {
    x86::ArchState s = state_with(kLinuxCr0, cr4);
    s.mxcsr = 0x1f80 & ~(1u << 9);  // ZM clear
    s.xmm[1] = {0x3f800000, 7};     // 1.0f
    s.xmm[2] = {0, 0};
    EXPECT_EQ(m.run({0xf3, 0x0f, 0x5e, 0xca}, s), cr4 & kOsxmmexcpt ? 19 : 6);  // DIVSS
    EXPECT_EQ(m.cpu.arch.mxcsr, s.mxcsr | 4u);                                  // ZE set
    EXPECT_EQ(m.cpu.arch.xmm[1], s.xmm[1]);  // destination unchanged
  }
}

}  // namespace
}  // namespace cella::soft
