#include "tests/diff/machine_state.h"

#include <cstring>

#include "tests/diff/layout.h"

namespace cella::diff {

namespace {

constexpr uint64_t kSpecialIntegers[] = {0,
                                         1,
                                         2,
                                         3,
                                         0x7f,
                                         0x80,
                                         0xff,
                                         0x100,
                                         0x7fff,
                                         0x8000,
                                         0xffff,
                                         0x7fffffff,
                                         0x80000000,
                                         0xffffffff,
                                         0x100000000,
                                         0x7fffffffffffffff,
                                         0x8000000000000000,
                                         ~uint64_t{0},
                                         ~uint64_t{0} - 1,
                                         31,
                                         32,
                                         33,
                                         63,
                                         64,
                                         65};

// IEEE single and double patterns worth testing: zeros, denormals, infinities, NaNs (quiet,
// signalling, indefinite), ones, extremes.
constexpr uint32_t kSpecialFloats[] = {0x00000000, 0x80000000, 0x00000001, 0x807fffff, 0x00800000,
                                       0x3f800000, 0xbf800000, 0x7f7fffff, 0x7f800000, 0xff800000,
                                       0x7fc00000, 0xffc00000, 0x7f800001, 0x7fbfffff, 0x4f000000,
                                       0xcf000000, 0x3f000000, 0x5f000000, 0x4b000000};
constexpr uint64_t kSpecialDoubles[] = {
    0x0000000000000000, 0x8000000000000000, 0x0000000000000001, 0x800fffffffffffff,
    0x0010000000000000, 0x3ff0000000000000, 0xbff0000000000000, 0x7fefffffffffffff,
    0x7ff0000000000000, 0xfff0000000000000, 0x7ff8000000000000, 0xfff8000000000000,
    0x7ff0000000000001, 0x7ff7ffffffffffff, 0x41e0000000000000, 0xc1e0000000000000,
    0x43e0000000000000, 0xc3e0000000000000, 0x3fe0000000000000, 0x4330000000000000};

struct Float80Pattern {
  uint64_t significand;
  uint16_t sign_exponent;
};
constexpr Float80Pattern kSpecialFloat80[] = {
    {0, 0},                        // +0
    {0, 0x8000},                   // -0
    {0x8000000000000000, 0x3fff},  // 1
    {0x8000000000000000, 0xbfff},  // -1
    {0xc90fdaa22168c235, 0x4000},  // pi
    {0x8000000000000000, 0x7fff},  // +inf
    {0x8000000000000000, 0xffff},  // -inf
    {0xc000000000000000, 0x7fff},  // QNaN
    {0xc000000000000000, 0xffff},  // indefinite
    {0xa000000000000000, 0x7fff},  // SNaN
    {0x0000000000000001, 0x0000},  // denormal
    {0x8000000000000000, 0x0000},  // pseudo-denormal
    {0x4000000000000000, 0x3fff},  // unnormal (invalid)
    {0xffffffffffffffff, 0x7ffe},  // largest
    {0x8000000000000000, 0x403e},  // 2^63
    {0xfffffffffffff800, 0x403d},  // near int64 max
};

uint64_t random_integer(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0:
      return kSpecialIntegers[rng() % std::size(kSpecialIntegers)];
    case 1:
      return rng() & 0xff;
    default:
      return rng();
  }
}

uint64_t random_vector_half(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0:
      return kSpecialDoubles[rng() % std::size(kSpecialDoubles)];
    case 1:
      return uint64_t{kSpecialFloats[rng() % std::size(kSpecialFloats)]} |
             uint64_t{kSpecialFloats[rng() % std::size(kSpecialFloats)]} << 32;
    case 2:
      return random_integer(rng);
    default:
      return rng();
  }
}

template <class T>
void put(uint8_t* p, size_t offset, T value) {
  std::memcpy(p + offset, &value, sizeof(T));
}

}  // namespace

MachineState random_state(std::mt19937_64& rng, const FormInstance& instance) {
  MachineState s;
  for (uint64_t& r : s.gpr) r = random_integer(rng);
  // The stack lives in the data area, 8-byte aligned (sometimes 16).
  s.gpr[4] = (kDataAddress + kDataSize * 3 / 4 - (rng() % 32) * 8);
  // Status flags and DF random; IF set (user mode cannot clear it); no TF, AC (SDM Vol. 1 3.4.3).
  s.rflags = 0x202 | (rng() & 0x8d5) | ((rng() % 4 == 0) ? 0x400 : 0);

  uint8_t* fx = s.fx.data();
  // FCW (SDM Vol. 1 8.1.5): random precision and rounding; exceptions masked, sometimes not.
  uint16_t fcw = static_cast<uint16_t>(0x3f | (rng() & 0xf00) | 0x40);
  if (rng() % 8 == 0) fcw = static_cast<uint16_t>(fcw & ~(rng() & 0x3f));
  put<uint16_t>(fx, 0, fcw);
  // FSW: random TOP and condition codes, no pending exception.
  put<uint16_t>(
      fx, 2,
      static_cast<uint16_t>(rng() & 0x4700 & ~0x0080) | static_cast<uint16_t>((rng() % 8) << 11));
  put<uint8_t>(fx, 4, static_cast<uint8_t>(rng()));  // abridged tags
  for (int i = 0; i < 8; ++i) {
    const bool special = rng() % 2 == 0;
    const Float80Pattern v =
        special ? kSpecialFloat80[rng() % std::size(kSpecialFloat80)]
                : Float80Pattern{
                      rng() | 0x8000000000000000,
                      static_cast<uint16_t>(((rng() % 0x80) + 0x3fc0) | ((rng() % 2) << 15))};
    put<uint64_t>(fx, 32 + 16 * i, v.significand);
    put<uint16_t>(fx, 32 + 16 * i + 8, v.sign_exponent);
  }
  // MXCSR (SDM Vol. 1 10.2.3): random rounding, FTZ, DAZ, flags; masked, sometimes not.
  uint32_t mxcsr = 0x1f80 | (rng() & 0xe03f);
  if (rng() % 8 == 0) mxcsr &= ~static_cast<uint32_t>(rng() & 0x1f80);
  put<uint32_t>(fx, 24, mxcsr);
  for (int i = 0; i < 16; ++i) {
    put<uint64_t>(fx, 160 + 16 * i, random_vector_half(rng));
    put<uint64_t>(fx, 160 + 16 * i + 8, random_vector_half(rng));
  }
  for (const RegisterRequirement& r : instance.registers) s.gpr[r.reg] = r.value;
  return s;
}

std::vector<uint8_t> random_data(std::mt19937_64& rng, const FormInstance& instance,
                                 const MachineState& state) {
  // Random words, a quarter of them replaced by edge values (floats, doubles, integers).
  std::vector<uint8_t> data(kDataSize);
  for (size_t i = 0; i < data.size(); i += 8) {
    const uint64_t v = rng();
    std::memcpy(&data[i], &v, 8);
  }
  for (size_t n = 0; n < kDataSize / 32; ++n) {
    const uint64_t v = random_vector_half(rng);
    std::memcpy(&data[(rng() % (kDataSize / 8)) * 8], &v, 8);
  }
  for (const MemoryRequirement& m : instance.memory) {
    const uint64_t address = m.address == 0 ? state.gpr[4] : m.address;
    if (address >= kDataAddress && address + m.size <= kDataAddress + kDataSize) {
      std::memcpy(&data[address - kDataAddress], &m.value, static_cast<size_t>(m.size));
    }
  }
  return data;
}

}  // namespace cella::diff
