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

// Byte offsets in the FXSAVE image (SDM Vol. 1 Table 10-2).
namespace fxsave_offset {
inline constexpr size_t kMxcsrOffset = 24, kStOffset = 32, kXmmOffset = 160;
}  // namespace fxsave_offset

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
// A quiet input: FCW 037FH, the given MXCSR, everything else zero.
SimdInput zero_input(uint32_t mxcsr = 0x1f80);
void set_mxcsr(SimdInput& input, uint32_t mxcsr);
uint32_t mxcsr_of(const SimdInput& input);
void set_xmm(SimdInput& input, unsigned index, uint64_t low, uint64_t high);
uint64_t xmm_low(const SimdInput& input, unsigned index);
uint64_t xmm_high(const SimdInput& input, unsigned index);
// MMX register i (x87 physical register i; the image lists ST(i), equal once TOP is 0).
void set_mm(SimdInput& input, unsigned index, uint64_t value);
uint64_t st_significand(const SimdInput& input, unsigned index);
uint16_t st_exponent(const SimdInput& input, unsigned index);
// The x87/MMX/SSE state of two images agrees (FCW, FSW, FTW, MXCSR, ST/MM, XMM).
bool same_simd_state(const SimdInput& a, const SimdInput& b);

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
  // Runs both; returns a description of every difference (empty when they agree). The native
  // outcome is stored in *native when given.
  std::string compare(const std::vector<uint8_t>& bytes, const SimdInput& input,
                      Outcome* native = nullptr);

  soft::SoftCpu& cpu() { return cpu_; }
  FlatMemory& memory() { return memory_; }
  // The guest address of SimdInput::memory in run_soft (RSI = +64, RDI = +128); the guest
  // memory spans 64 KiB from kSoftBase.
  static constexpr uint64_t kSoftBase = 0x10000000;
  static constexpr uint64_t kSoftRegion = kSoftBase + 0x2000;
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
