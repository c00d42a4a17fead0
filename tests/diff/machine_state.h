// The user-visible state both runs start from and end in: general-purpose registers, RFLAGS,
// the FXSAVE64 image (x87, MXCSR, XMM), the data area, and how the instruction ended.
#pragma once

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "cpu/x86/fxsave.h"
#include "tests/diff/form_instance.h"

namespace cella::diff {

struct MachineState {
  std::array<uint64_t, 16> gpr{};
  uint64_t rflags = 0x202;
  std::array<uint8_t, x86::kFxsaveSize> fx{};  // FXSAVE64 layout
};

struct Outcome {
  MachineState state;         // at completion, or at the fault
  std::vector<uint8_t> data;  // the data area afterwards
  int vector = -1;            // -1: completed (reached the sled's end); else the exception
  uint32_t error_code = 0;
  uint64_t fault_address = 0;  // #PF
  uint64_t rip = 0;            // at the fault
};

// Random registers, flags, x87/SSE state and data, biased towards edge values, with the
// instance's requirements applied (stack pointer, pointers, branch targets).
MachineState random_state(std::mt19937_64& rng, const FormInstance& instance);
std::vector<uint8_t> random_data(std::mt19937_64& rng, const FormInstance& instance,
                                 const MachineState& state);

}  // namespace cella::diff
