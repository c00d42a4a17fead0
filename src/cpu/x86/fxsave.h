// The 512-byte FXSAVE image of the x87, MMX and SSE state (SDM Vol. 1 10.5.1, Table 10-2),
// used by FXSAVE/FXRSTOR, Linux signal frames, snapshots, and tests that compare with the
// host processor.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "cpu/x86/arch_state.h"

namespace cella::x86 {

inline constexpr size_t kFxsaveSize = 512;
// MXCSR bits a guest may set: all defined bits, DAZ included (SDM Vol. 1 11.6.6).
inline constexpr uint32_t kMxcsrMask = 0xffff;

enum class FxsaveFormat {
  k64,  // FXSAVE64 (REX.W): 64-bit FPU instruction and data pointers
  k32,  // FXSAVE without REX.W: 32-bit offsets with FCS/FDS selectors
};

std::array<uint8_t, kFxsaveSize> fxsave_image(const ArchState& state, FxsaveFormat format);

// Loads an image. Returns false, changing nothing, when the image sets reserved MXCSR bits
// (FXRSTOR raises #GP(0) then: SDM Vol. 2A FXRSTOR).
bool load_fxsave_image(ArchState& state, std::span<const uint8_t, kFxsaveSize> image,
                       FxsaveFormat format);

// SDM Vol. 1 8.1.7: the 2-bit tag a register's contents imply (valid, zero or special).
uint16_t tag_for(const Float80& value);
// The abridged (1 bit per physical register) tag word FXSAVE stores: 1 = not empty.
uint8_t abridged_tags(uint16_t full_tags);
// The full tag word FXRSTOR reconstructs from the abridged one and the registers.
uint16_t full_tags(uint8_t abridged, const std::array<Float80, 8>& physical);

}  // namespace cella::x86
