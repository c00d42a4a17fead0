// Directed SIMD cases on the differential runners: states built value by value (XMM, MMX,
// MXCSR), run on the host and on the software CPU, compared field by field.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/diff/layout.h"
#include "tests/diff/runners.h"

namespace cella::diff {

// Where RSI and RDI point in simd_state(): 16-byte aligned, inside the data area.
inline constexpr uint64_t kRsiData = kDataAddress + 0x400;
inline constexpr uint64_t kRdiData = kDataAddress + 0x800;

// FCW 037FH, the given MXCSR, empty x87 registers, everything else zero except RSI/RDI (above)
// and RSP (the data area's top quarter).
MachineState simd_state(uint32_t mxcsr = 0x1f80);

void set_mxcsr(MachineState& s, uint32_t mxcsr);
uint32_t mxcsr_of(const MachineState& s);
void set_xmm(MachineState& s, unsigned index, uint64_t low, uint64_t high);
uint64_t xmm_low(const MachineState& s, unsigned index);
uint64_t xmm_high(const MachineState& s, unsigned index);
// ST(i) of the image: MMX register i once TOP is 0.
void set_st(MachineState& s, unsigned index, uint64_t significand, uint16_t sign_exponent);
uint64_t st_significand(const MachineState& s, unsigned index);
uint16_t st_exponent(const MachineState& s, unsigned index);
void set_fsw(MachineState& s, uint16_t fsw);
uint16_t fsw_of(const MachineState& s);

class SimdCheck {
 public:
  SimdCheck();

  // Runs `bytes` natively and on the software CPU; returns the differences (empty when they
  // agree) and stores the native outcome in *native when given.
  std::string compare(const std::vector<uint8_t>& bytes, const MachineState& in,
                      Outcome* native = nullptr, const std::vector<uint8_t>& data = {});
  Outcome native(const std::vector<uint8_t>& bytes, const MachineState& in,
                 const std::vector<uint8_t>& data = {});
  Outcome soft(const std::vector<uint8_t>& bytes, const MachineState& in,
               const std::vector<uint8_t>& data = {});
  bool ready() const { return native_ != nullptr; }

 private:
  std::unique_ptr<NativeRunner> native_;
  SoftRunner soft_;
};

}  // namespace cella::diff
