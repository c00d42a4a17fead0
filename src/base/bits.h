// Bit and byte helpers shared by every component.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace cella {

// Bits [lo, lo+width) of value.
constexpr uint64_t bits(uint64_t value, unsigned lo, unsigned width) {
  return width >= 64 ? value >> lo : (value >> lo) & ((uint64_t{1} << width) - 1);
}
constexpr bool bit(uint64_t value, unsigned n) {
  return (value >> n) & 1;
}

template <class T>
constexpr std::make_signed_t<T> as_signed(T value) {
  return static_cast<std::make_signed_t<T>>(value);
}
template <class T>
constexpr std::make_unsigned_t<T> as_unsigned(T value) {
  return static_cast<std::make_unsigned_t<T>>(value);
}

// Sign-extends the low `width` bits of value to 64 bits.
constexpr int64_t sign_extend(uint64_t value, unsigned width) {
  const unsigned shift = 64 - width;
  return static_cast<int64_t>(value << shift) >> shift;
}

// Unaligned little-endian loads and stores (the host is x86-64, as the guest).
template <class T>
inline T load_le(const void* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}
template <class T>
inline void store_le(void* p, T value) {
  std::memcpy(p, &value, sizeof(T));
}

template <class T>
constexpr T byteswap(T value) {
  if constexpr (sizeof(T) == 2)
    return static_cast<T>(__builtin_bswap16(static_cast<uint16_t>(value)));
  else if constexpr (sizeof(T) == 4)
    return static_cast<T>(__builtin_bswap32(static_cast<uint32_t>(value)));
  else if constexpr (sizeof(T) == 8)
    return static_cast<T>(__builtin_bswap64(static_cast<uint64_t>(value)));
  else
    return value;
}

// Big-endian helpers for on-disk formats that use network byte order (qcow2, VHD).
template <class T>
inline T load_be(const void* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  if constexpr (sizeof(T) == 1)
    return value;
  else
    return byteswap(value);
}
template <class T>
inline void store_be(void* p, T value) {
  if constexpr (sizeof(T) > 1) value = byteswap(value);
  std::memcpy(p, &value, sizeof(T));
}

constexpr uint64_t align_down(uint64_t value, uint64_t alignment) {
  return value & ~(alignment - 1);
}
constexpr uint64_t align_up(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) & ~(alignment - 1);
}
constexpr bool is_power_of_two(uint64_t value) {
  return value != 0 && (value & (value - 1)) == 0;
}

// Division rounding towards negative infinity (times before an epoch).
constexpr int64_t floor_div(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

// Binary-coded decimal with `digits` nibbles (the RTC's fields, the PIT's BCD counts). A nibble
// above 9 decodes to its value, as the devices' digit adders would take it.
constexpr uint64_t to_bcd(uint64_t value, unsigned digits) {
  uint64_t bcd = 0;
  for (unsigned i = 0; i < digits; ++i, value /= 10) bcd |= (value % 10) << (4 * i);
  return bcd;
}
constexpr uint64_t from_bcd(uint64_t bcd, unsigned digits) {
  uint64_t value = 0;
  for (unsigned i = digits; i-- > 0;) value = value * 10 + ((bcd >> (4 * i)) & 0xf);
  return value;
}

}  // namespace cella
