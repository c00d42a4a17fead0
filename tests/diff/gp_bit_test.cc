// BT BTS BTR BTC BSF BSR TZCNT LZCNT POPCNT against the host processor: register and immediate
// bit offsets, memory operands addressed by signed register offsets far outside the operand
// (negative ones included), zero sources, every operand size.
#include <gtest/gtest.h>

#include <cstring>

#include "tests/diff/gp_oracle.h"

namespace cella::diff {
namespace {

TEST(BitOracle, BitTestFormsMatchHost) {
  HostComparison host;
  Inputs gen(6);
  gen.randomize(host.data());
  for (uint8_t digit = 4; digit < 8; ++digit) {
    static constexpr uint8_t kRegisterOpcodes[4] = {0xa3, 0xab, 0xb3, 0xbb};  // BT BTS BTR BTC
    for (const RmShape& shape : rm_shapes(false)) {
      for (int i = 0; i < 32; ++i) {
        MachineState in = gen.state();
        // [RSI] in the middle of the data area; the register offset (RDX) reaches
        // +-8 KiB around it, so that every access stays inside the area.
        in.gpr[6] = kDataAddress + 2 * 4096 + gen.next() % 64;
        const int64_t offset = static_cast<int64_t>(gen.next() % (2 * 8 * 8000)) - 8 * 8000;
        in.gpr[2] = i % 4 == 0 ? gen.edgy() : static_cast<uint64_t>(offset);
        if (shape.memory && i % 4 == 0) in.gpr[2] &= 0xf;  // edgy values only as small offsets
        std::vector<uint8_t> by_register = shape.prefixes, by_immediate = shape.prefixes;
        by_register.insert(by_register.end(), {0x0f, kRegisterOpcodes[digit - 4], shape.modrm(2)});
        by_immediate.insert(by_immediate.end(),
                            {0x0f, 0xba, shape.modrm(digit), static_cast<uint8_t>(gen.next())});
        if (!host.matches(by_register, in) || !host.matches(by_immediate, in)) {
          break;
        }
        if (shape.memory) {  // and with LOCK
          by_register.insert(by_register.begin(), 0xf0);
          by_immediate.insert(by_immediate.begin(), 0xf0);
          if (digit != 4 && (!host.matches(by_register, in) || !host.matches(by_immediate, in))) {
            break;
          }
        }
      }
    }
  }
}

TEST(BitOracle, NegativeOffsetsAddressMemoryBelowTheOperand) {
  HostComparison host;
  Inputs gen(7);
  gen.randomize(host.data());
  MachineState in = plain_state();
  in.gpr[6] = kDataAddress + 2 * 4096;
  for (int64_t offset : {-1, -8, -9, -16, -17, -32, -33, -64, -65, -32768, -65535}) {
    in.gpr[2] = static_cast<uint64_t>(offset);
    for (std::vector<uint8_t> insn :
         {std::vector<uint8_t>{0x48, 0x0f, 0xab, 0x16},  // bts [rsi], rdx
          {0x0f, 0xb3, 0x16},                            // btr [rsi], edx
          {0x66, 0x0f, 0xbb, 0x16}}) {                   // btc [rsi], dx
      EXPECT_TRUE(host.matches(insn, in));
    }
  }
  // bts qword [rsi], rdx with offset -1 sets bit 63 of the qword below [rsi].
  in.gpr[2] = ~uint64_t{0};
  const uint8_t before = host.data()[2 * 4096 - 1];
  const Outcome out = host.soft(std::vector<uint8_t>{0x48, 0x0f, 0xab, 0x16}, in);
  EXPECT_EQ(out.data[2 * 4096 - 1], before | 0x80);
}

TEST(BitOracle, ScanAndCountFormsMatchHost) {
  HostComparison host;
  Inputs gen(8);
  gen.randomize(host.data());
  const std::vector<std::vector<uint8_t>> kForms = {
      {0x0f, 0xbc},        // BSF
      {0x0f, 0xbd},        // BSR
      {0xf3, 0x0f, 0xbc},  // TZCNT
      {0xf3, 0x0f, 0xbd},  // LZCNT
      {0xf3, 0x0f, 0xb8},  // POPCNT
  };
  for (const auto& form : kForms) {
    for (const RmShape& shape : rm_shapes(false)) {
      for (int i = 0; i < 40; ++i) {
        // The mandatory F3 comes before REX: 66 F3 or F3 48.
        std::vector<uint8_t> insn;
        const bool rex = !shape.prefixes.empty() && shape.prefixes[0] == 0x48;
        if (!rex) insn = shape.prefixes;
        insn.insert(insn.end(), form.begin(), form.end() - 2);
        if (rex) insn.push_back(0x48);
        insn.insert(insn.end(), {form[form.size() - 2], form.back(), shape.modrm(2)});
        MachineState in = gen.state();
        if (i % 5 == 0) in.gpr[3] = 0;  // zero source: BSF/BSR leave the destination alone
        if (i % 5 == 0 && shape.memory) std::memset(host.data().data() + 4096, 0, 8192);
        const bool ok = host.matches(insn, in);
        if (i % 5 == 0 && shape.memory) gen.randomize(host.data());
        if (!ok) break;
      }
    }
  }
}

}  // namespace
}  // namespace cella::diff
