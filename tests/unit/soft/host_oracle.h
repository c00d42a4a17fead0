// HostOracle: runs one instruction natively on the host processor and on the software CPU from
// the same registers, flags and memory, and reports every difference. The data area lives at
// the same linear address on both sides (a fixed host mapping below 4 GiB, so that 32-bit
// addressing works too), so register values that are addresses mean the same on both.
// Faults are compared too: natively they arrive as signals whose context holds the registers.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cpu/x86/exceptions.h"
#include "cpu/x86/registers.h"

namespace cella::soft::testing {

struct OracleState {
  uint64_t gpr[16] = {};  // RSP (gpr[4]) is the host's own and is neither set nor compared
  uint64_t rflags = 0x202;
};

struct OracleOutcome {
  OracleState state;
  bool faulted = false;
  x86::Vector vector = x86::Vector::kDivideError;
  uint64_t fault_address = 0;  // #PF
};

class HostOracle {
 public:
  static constexpr uint64_t kDataBase = 0x40000000;
  static constexpr size_t kDataSize = 4 * 4096;

  HostOracle();
  ~HostOracle();
  HostOracle(const HostOracle&) = delete;
  HostOracle& operator=(const HostOracle&) = delete;

  // The data area both sides start from (copied in before each run).
  std::span<uint8_t> data() { return initial_; }
  // Makes one data page inaccessible (or accessible again) on both sides.
  void set_page_accessible(unsigned page, bool accessible);
  // Gives the FS segment a base on the software CPU equal to the host thread's FS base, so
  // FS-relative operands address the same memory natively and in the software CPU.
  static uint64_t host_fs_base();

  OracleOutcome run_native(std::span<const uint8_t> insn, const OracleState& in);
  OracleOutcome run_soft(std::span<const uint8_t> insn, const OracleState& in);
  std::span<const uint8_t> native_data() const;
  std::span<const uint8_t> soft_data() const;

  // Runs both and returns a description of every difference (empty: identical). Flags the
  // form declares undefined for these inputs are not compared.
  std::string compare(std::span<const uint8_t> insn, const OracleState& in);

 private:
  struct Impl;
  Impl* impl_;
  std::vector<uint8_t> initial_;
};

// "48 d3 e0": instruction bytes for messages.
std::string hex(std::span<const uint8_t> bytes);
std::string describe(const OracleState& state);

// Runs `insn` from `in` on the host and on the software CPU. On any difference it adds a
// GoogleTest failure naming the instruction and its inputs, and returns false.
bool matches_host(HostOracle& oracle, std::span<const uint8_t> insn, const OracleState& in);

// A deterministic source of test inputs with a bias towards edge values.
class InputGenerator {
 public:
  explicit InputGenerator(uint64_t seed) : state_(seed) {}
  uint64_t next();
  uint64_t edgy();   // random, or one of 0, 1, -1, sign bits, all-ones of each width...
  uint64_t flags();  // random status flags (and DF clear)
  // Edgy registers and random flags, RSI pointing into the data area (sometimes so that an
  // operand crosses into the next page).
  OracleState state();
  void randomize(std::span<uint8_t> bytes);

 private:
  uint64_t state_;
};

// The r/m operand of a ModRM form: a register (3: BL/BX/EBX/RBX; 4 in a byte form: AH) or
// memory at [RSI], with the operand-size prefixes of one size.
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

}  // namespace cella::soft::testing
