// The 256-bit vector arrays of a local APIC (IRR, ISR, TMR: SDM Vol. 3A 11.8.4, Figure 11-20),
// stored as the eight 32-bit registers the guest reads.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace cella::devices::lapic {

using VectorBits = std::array<uint32_t, 8>;

inline bool test_vector(const VectorBits& bits, uint8_t vector) {
  return (bits[vector >> 5] >> (vector & 31)) & 1;
}
inline void set_vector(VectorBits& bits, uint8_t vector) {
  bits[vector >> 5] |= 1u << (vector & 31);
}
inline void clear_vector(VectorBits& bits, uint8_t vector) {
  bits[vector >> 5] &= ~(1u << (vector & 31));
}
// The highest set vector, or -1.
inline int highest_vector(const VectorBits& bits) {
  for (int i = 7; i >= 0; --i) {
    if (bits[i] != 0) return i * 32 + 31 - std::countl_zero(bits[i]);
  }
  return -1;
}

}  // namespace cella::devices::lapic
