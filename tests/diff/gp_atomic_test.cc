// CMPXCHG XADD CMPXCHG8B CMPXCHG16B against the host processor: equal and unequal compares,
// registers and memory, with and without LOCK, a misaligned CMPXCHG16B operand (#GP).
#include <gtest/gtest.h>

#include <cstring>

#include "tests/diff/gp_oracle.h"

namespace cella::diff {
namespace {

uint64_t load64(HostComparison& host, uint64_t linear) {
  uint64_t value;
  std::memcpy(&value, host.data().data() + (linear - kDataAddress), 8);
  return value;
}

TEST(AtomicOracle, CompareExchangeAndExchangeAddMatchHost) {
  HostComparison host;
  Inputs gen(13);
  gen.randomize(host.data());
  for (uint8_t opcode : {0xb0, 0xb1, 0xc0, 0xc1}) {
    for (const RmShape& shape : rm_shapes((opcode & 1) == 0)) {
      for (int i = 0; i < 40; ++i) {
        std::vector<uint8_t> insn = shape.prefixes;
        insn.insert(insn.end(), {0x0f, opcode, shape.modrm(i % 3 == 0 ? 0 : 2)});  // src RAX/RDX
        if (shape.memory && i % 2) insn.insert(insn.begin(), 0xf0);                // LOCK
        MachineState in = gen.state();
        if (i % 2 == 0) {  // CMPXCHG: make the compare succeed
          in.gpr[0] = shape.memory ? load64(host, in.gpr[6]) : in.gpr[3];
          if (shape.rm == 4) in.gpr[0] = in.gpr[0] >> 8;  // AH against AL
        }
        if (!host.matches(insn, in)) break;
      }
    }
  }
}

TEST(AtomicOracle, CompareExchange8And16MatchHost) {
  HostComparison host;
  Inputs gen(14);
  gen.randomize(host.data());
  for (bool wide : {false, true}) {
    for (int i = 0; i < 64; ++i) {
      std::vector<uint8_t> insn;
      if (i % 2) insn.push_back(0xf0);
      if (wide) insn.push_back(0x48);
      insn.insert(insn.end(), {0x0f, 0xc7, 0x0e});  // cmpxchg8b/16b [rsi]
      MachineState in = gen.state();
      in.gpr[6] = kDataAddress + 4096 + (gen.next() % 256) * 16;
      if (i % 8 == 7) in.gpr[6] += wide ? 8 : 4;  // misaligned: #GP for CMPXCHG16B
      if (i % 3 != 0) {                           // equal
        const uint64_t low = load64(host, in.gpr[6]), high = load64(host, in.gpr[6] + 8);
        in.gpr[0] = wide ? low : (low & 0xffffffff) | (gen.next() << 32);
        in.gpr[2] = wide ? high : (low >> 32) | (gen.next() << 32);
      }
      if (!host.matches(insn, in)) break;
      if (wide && i % 8 == 7) {
        EXPECT_EQ(host.soft(insn, in).vector, 13);  // #GP
      }
    }
  }
}

}  // namespace
}  // namespace cella::diff
