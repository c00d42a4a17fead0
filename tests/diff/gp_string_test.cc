// String instructions against the host processor: MOVS CMPS STOS LODS SCAS at every size,
// without and with REP/REPE/REPNE, both directions, 32-bit addressing (67), an FS override of
// the source, overlapping source and destination, RCX = 0, and faults in the middle of a
// repeated instruction (the registers must stop at the faulting iteration, as on the host).
#include <gtest/gtest.h>

#include <cstring>

#include "tests/diff/gp_oracle.h"

namespace cella::diff {
namespace {

constexpr uint64_t kDf = x86::rflags::kDf;

// Low-entropy data (bytes 0 and 1), so that REPE/REPNE comparisons run for a while.
void fill_low_entropy(Inputs& gen, std::vector<uint8_t>& data) {
  for (uint8_t& b : data) b = static_cast<uint8_t>(gen.next() % 8 == 0);
}

struct StringForm {
  uint8_t opcode;
  bool compares;
};
constexpr StringForm kForms[] = {{0xa4, false}, {0xa5, false}, {0xa6, true},  {0xa7, true},
                                 {0xaa, false}, {0xab, false}, {0xac, false}, {0xad, false},
                                 {0xae, true},  {0xaf, true}};

TEST(StringOracle, EveryFormMatchesHost) {
  HostComparison host;
  Inputs gen(11);
  fill_low_entropy(gen, host.data());
  const uint64_t fs_base = host_fs_base();
  for (const StringForm& form : kForms) {
    const bool byte_form = (form.opcode & 1) == 0;
    for (uint8_t rep : {0x00, 0xf3, 0xf2}) {
      for (int i = 0; i < 48; ++i) {
        const bool address32 = i % 4 == 1, fs = i % 6 == 2;
        std::vector<uint8_t> insn;
        if (address32) insn.push_back(0x67);
        if (fs) insn.push_back(0x64);
        if (rep) insn.push_back(rep);
        if (!byte_form) {
          static constexpr uint8_t kSizes[3] = {0x66, 0x00, 0x48};
          if (const uint8_t size = kSizes[i % 3]) insn.push_back(size);
        }
        insn.push_back(form.opcode);
        MachineState in = gen.state();
        in.rflags = gen.flags() | (i % 2 ? kDf : 0);
        in.gpr[0] = gen.next() % 2;  // AL/AX... 0 or 1, like the data
        const uint64_t source = kDataAddress + 4096 + 512 + gen.next() % 7000;
        const uint64_t destination = i % 3 == 0 ? source + gen.next() % 33 - 16
                                                : kDataAddress + 4096 + 512 + gen.next() % 7000;
        in.gpr[6] = fs ? source - fs_base : source;
        in.gpr[7] = destination;
        in.gpr[1] = i % 8 == 0 ? 0 : gen.next() % 64;
        if (address32) {  // upper halves are ignored, and cleared when written
          in.gpr[1] |= gen.next() << 32;
          if (!fs) in.gpr[6] |= gen.next() << 32;
          in.gpr[7] |= gen.next() << 32;
        }
        if (!host.matches(insn, in)) break;
      }
    }
  }
}

// A fault in the middle of REP MOVS/STOS/CMPS/SCAS/LODS: the strings run off the end of the
// data area (the guard above it) and the registers must stop where the host's do, also when an
// element straddles the boundary.
TEST(StringOracle, FaultInTheMiddleStopsAtTheFaultingIteration) {
  HostComparison host;
  Inputs gen(12);
  std::memset(host.data().data(), 0, host.data().size());  // REPE CMPS/SCAS keep going
  for (const StringForm& form : kForms) {
    for (uint8_t size : {0x00, 0x66, 0x48}) {
      if ((form.opcode & 1) == 0 && size != 0) continue;
      for (int i = 0; i < 8; ++i) {
        std::vector<uint8_t> insn = {0xf3};
        if (size) insn.push_back(size);
        insn.push_back(form.opcode);
        MachineState in = plain_state();
        const uint64_t edge = kDataAddress + kDataSize - 40 - 3 * static_cast<uint64_t>(i);
        const uint64_t other = kDataAddress + 2048;
        const bool uses_source = form.opcode <= 0xa7 || form.opcode == 0xac || form.opcode == 0xad;
        const bool uses_destination = form.opcode != 0xac && form.opcode != 0xad;
        const bool source_faults = uses_source && (i % 2 == 0 || !uses_destination);
        in.gpr[6] = source_faults ? edge : other;
        in.gpr[7] = source_faults ? other : edge;
        in.gpr[1] = 100;
        if (!host.matches(insn, in)) break;
        EXPECT_EQ(host.soft(insn, in).vector, 14) << hex(insn);  // #PF
      }
    }
  }
}

}  // namespace
}  // namespace cella::diff
