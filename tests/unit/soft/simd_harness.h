// Differential checking of SIMD instruction forms: an instruction runs natively on the host
// (NativeRunner) and on the software CPU from the same state (XMM, MMX/x87, MXCSR, GPRs, flags
// and a memory region addressed through RSI and RDI), and everything they produce is compared.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "engines/soft/cpu.h"
#include "engines/soft/decoder/decoder.h"
#include "tests/support/flat_memory.h"
#include "tests/unit/soft/native_runner.h"

namespace cella::testing {

// Operand choices for one encoding of a form.
struct OperandChoice {
  unsigned reg = 0;     // ModRM.reg register (XMM 0-15, MMX 0-7, GPR)
  unsigned rm = 0;      // ModRM.rm register
  bool memory = false;  // r/m is [RSI + disp8]
  int8_t disp = 0;
  bool rex_w = false;
  uint8_t imm = 0;
};

// The bytes of `form` with the given operands, or nullopt when they cannot express it.
std::vector<uint8_t> encode_form(uint16_t form, const OperandChoice& choice);

// Random operands for `form`: registers the harness may clobber (never RSP, RSI, RDI, R15),
// memory or register r/m as the form allows, a 16-byte aligned displacement unless
// `misaligned`. Returns nullopt if the form has no variant of that kind.
std::optional<OperandChoice> random_operands(uint16_t form, bool memory, bool misaligned,
                                             std::mt19937_64& rng);

// The state an instruction starts from.
struct SimdInput {
  NativeState state;         // fxsave image, GPRs, RFLAGS (RSI/RDI are set by the harness)
  uint8_t memory[256] = {};  // the region; RSI points at +64 and RDI at +128
};

// A random input: XMM lanes, MMX registers, GPRs and memory biased towards special values
// (zeros, infinities, NaNs, denormals, integer and conversion edges), and a random MXCSR
// (`unmasked`: some exceptions unmasked).
SimdInput random_input(std::mt19937_64& rng, bool unmasked);
void set_mxcsr(SimdInput& input, uint32_t mxcsr);
uint32_t mxcsr_of(const SimdInput& input);
void set_xmm(SimdInput& input, unsigned index, uint64_t low, uint64_t high);

struct Outcome {
  bool faulted = false;
  int vector = 0;
  SimdInput after;
};

class SimdHarness {
 public:
  SimdHarness();

  Outcome run_native(const std::vector<uint8_t>& bytes, const SimdInput& input);
  Outcome run_soft(const std::vector<uint8_t>& bytes, const SimdInput& input);
  // Runs both; returns a description of every difference (empty when they agree).
  std::string compare(const std::vector<uint8_t>& bytes, const SimdInput& input);

  soft::SoftCpu& cpu() { return cpu_; }
  uint64_t soft_cr0 = 0x80050033;  // Linux's user-mode CR0: PE MP ET NE WP AM PG
  uint64_t soft_cr4 = 0x3406f0;    // includes OSFXSR and OSXMMEXCPT

 private:
  NativeRunner native_;
  FlatMemory memory_;
  soft::CodeCache code_;
  x86::CpuidPolicy cpuid_;
  soft::SoftCpu cpu_;
  alignas(64) uint8_t native_memory_[256];
};

std::string hex(const std::vector<uint8_t>& bytes);

}  // namespace cella::testing
