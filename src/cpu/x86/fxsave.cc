#include "cpu/x86/fxsave.h"

#include <cstring>

namespace cella::x86 {

namespace {

// SDM Vol. 1 Table 10-2: byte offsets in the FXSAVE image.
constexpr size_t kFcw = 0, kFsw = 2, kFtw = 4, kFop = 6, kFip = 8, kFdp = 16, kMxcsr = 24,
                 kMxcsrMaskOffset = 28, kStRegisters = 32, kXmmRegisters = 160;

template <class T>
void put(uint8_t* image, size_t offset, T value) {
  std::memcpy(image + offset, &value, sizeof(T));
}
template <class T>
T get(const uint8_t* image, size_t offset) {
  T value;
  std::memcpy(&value, image + offset, sizeof(T));
  return value;
}

unsigned top_of(uint16_t status) {
  return (status >> 11) & 7;
}

}  // namespace

uint16_t tag_for(const Float80& value) {
  const uint16_t exponent = value.sign_exponent & 0x7fff;
  if (exponent == 0x7fff) return 2;                          // special: infinity, NaN
  if (exponent == 0) return value.significand == 0 ? 1 : 2;  // zero, or denormal (special)
  return (value.significand >> 63) ? 0 : 2;                  // valid, or unnormal (special)
}

uint8_t abridged_tags(uint16_t full) {
  uint8_t abridged = 0;
  for (int i = 0; i < 8; ++i) {
    if (((full >> (2 * i)) & 3) != 3) abridged |= static_cast<uint8_t>(1u << i);
  }
  return abridged;
}

uint16_t full_tags(uint8_t abridged, const std::array<Float80, 8>& physical) {
  uint16_t full = 0;
  for (int i = 0; i < 8; ++i) {
    const uint16_t tag = (abridged >> i) & 1 ? tag_for(physical[i]) : 3;
    full |= static_cast<uint16_t>(tag << (2 * i));
  }
  return full;
}

std::array<uint8_t, kFxsaveSize> fxsave_image(const ArchState& state, FxsaveFormat format) {
  std::array<uint8_t, kFxsaveSize> image{};
  uint8_t* p = image.data();
  const X87State& x87 = state.x87;
  put<uint16_t>(p, kFcw, x87.control);
  put<uint16_t>(p, kFsw, x87.status);
  put<uint8_t>(p, kFtw, abridged_tags(x87.tag));
  put<uint16_t>(p, kFop, x87.last_opcode & 0x7ff);
  if (format == FxsaveFormat::k64) {
    put<uint64_t>(p, kFip, x87.last_instruction);
    put<uint64_t>(p, kFdp, x87.last_data);
  } else {
    put<uint32_t>(p, kFip, static_cast<uint32_t>(x87.last_instruction));
    put<uint32_t>(p, kFdp, static_cast<uint32_t>(x87.last_data));
  }
  put<uint32_t>(p, kMxcsr, state.mxcsr);
  put<uint32_t>(p, kMxcsrMaskOffset, kMxcsrMask);
  const unsigned top = top_of(x87.status);
  for (unsigned i = 0; i < 8; ++i) {  // ST(i) order, not physical order
    const Float80& reg = x87.physical[(top + i) & 7];
    put<uint64_t>(p, kStRegisters + 16 * i, reg.significand);
    put<uint16_t>(p, kStRegisters + 16 * i + 8, reg.sign_exponent);
  }
  for (unsigned i = 0; i < 16; ++i) {
    put<uint64_t>(p, kXmmRegisters + 16 * i, state.xmm[i].low);
    put<uint64_t>(p, kXmmRegisters + 16 * i + 8, state.xmm[i].high);
  }
  return image;
}

bool load_fxsave_image(ArchState& state, std::span<const uint8_t, kFxsaveSize> image,
                       FxsaveFormat format) {
  const uint8_t* p = image.data();
  const uint32_t mxcsr = get<uint32_t>(p, kMxcsr);
  if (mxcsr & ~kMxcsrMask) return false;
  X87State& x87 = state.x87;
  x87.control = get<uint16_t>(p, kFcw);
  x87.status = get<uint16_t>(p, kFsw);
  x87.last_opcode = get<uint16_t>(p, kFop) & 0x7ff;
  if (format == FxsaveFormat::k64) {
    x87.last_instruction = get<uint64_t>(p, kFip);
    x87.last_data = get<uint64_t>(p, kFdp);
  } else {
    x87.last_instruction = get<uint32_t>(p, kFip);
    x87.last_data = get<uint32_t>(p, kFdp);
  }
  state.mxcsr = mxcsr;
  const unsigned top = top_of(x87.status);
  for (unsigned i = 0; i < 8; ++i) {
    Float80& reg = x87.physical[(top + i) & 7];
    reg.significand = get<uint64_t>(p, kStRegisters + 16 * i);
    reg.sign_exponent = get<uint16_t>(p, kStRegisters + 16 * i + 8);
  }
  x87.tag = full_tags(get<uint8_t>(p, kFtw), x87.physical);
  for (unsigned i = 0; i < 16; ++i) {
    state.xmm[i].low = get<uint64_t>(p, kXmmRegisters + 16 * i);
    state.xmm[i].high = get<uint64_t>(p, kXmmRegisters + 16 * i + 8);
  }
  return true;
}

}  // namespace cella::x86
