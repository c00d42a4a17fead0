// Targeted host comparisons for the general-purpose instruction groups: one instruction from
// chosen registers, flags and data, run by this folder's native and soft runners (the same as
// the randomized whole-table test), so edge cases (counts 0/1/31/63/64, INT_MIN / -1, REP with
// RCX = 0, faults in the middle of a string, far bit offsets) are compared with the host.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/diff/layout.h"
#include "tests/diff/runners.h"

namespace cella::diff {

class HostComparison {
 public:
  HostComparison();

  // The data area both runs start from.
  std::vector<uint8_t>& data() { return data_; }
  // Runs `insn` from `in` on the host and on the software CPU. On any difference it adds a
  // GoogleTest failure naming the instruction and its inputs, and returns false.
  bool matches(const std::vector<uint8_t>& insn, const MachineState& in);
  // The software CPU's run alone.
  Outcome soft(const std::vector<uint8_t>& insn, const MachineState& in);

 private:
  std::unique_ptr<NativeRunner> native_;
  SoftRunner soft_;
  std::vector<uint8_t> data_;
};

// Zero registers but RSP (inside the data area), flags 0x202, x87/SSE control at their
// defaults.
MachineState plain_state();

// A deterministic source of inputs with a bias towards edge values.
class Inputs {
 public:
  explicit Inputs(uint64_t seed) : state_(seed) {}
  uint64_t next();
  uint64_t edgy();   // random, or one of 0, 1, -1, the sign bits and all-ones of each width
  uint64_t flags();  // random status flags, DF clear
  // Edgy registers, random flags, RSI in the data area (sometimes so that an operand
  // crosses into the next page).
  MachineState state();
  void randomize(std::vector<uint8_t>& bytes);

 private:
  uint64_t state_;
};

// The r/m operand of a ModRM form: a register (3: BL/BX/EBX/RBX; 4 in a byte form: AH) or
// memory at [RSI], with the operand-size prefix of one size.
struct RmShape {
  std::vector<uint8_t> prefixes;
  bool memory;
  uint8_t rm;
  uint8_t modrm(uint8_t reg) const {
    return static_cast<uint8_t>((memory ? 0x00 : 0xc0) | (reg << 3) | rm);
  }
};
// Every shape of a byte form (BL, AH, [RSI]) or of a "v" form (16, 32, 64 bits x RBX, [RSI]).
std::vector<RmShape> rm_shapes(bool byte_form);

}  // namespace cella::diff
