// Inputs of the SIMD differential tests: register, memory and MXCSR states biased towards the
// values where implementations go wrong (simd_harness.h).
#include <cstring>

#include "tests/unit/soft/simd_harness.h"

namespace cella::testing {

namespace {

using namespace fxsave_offset;

uint64_t pick(std::mt19937_64& rng, std::initializer_list<uint64_t> values) {
  return *(values.begin() + rng() % values.size());
}

uint32_t random_float(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0:
      return static_cast<uint32_t>(rng());
    case 1:  // a moderate normal number
      return static_cast<uint32_t>((rng() & 0x807fffff) | ((0x70 + rng() % 32) << 23));
    default:
      return static_cast<uint32_t>(pick(
          rng, {0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3fc00000, 0x40200000, 0xc0200000,
                0x3f000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fc12345, 0x7f800001,
                0xff912345, 0x7fa00000, 0x00000001, 0x007fffff, 0x80400000, 0x00800000, 0x80800000,
                0x7f7fffff, 0xff7fffff, 0x4f000000, 0xcf000000, 0x4effffff, 0xcf000001, 0x5f000000,
                0xdf000000, 0x4b800000, 0x0c000000, 0x72000000, 0x1f800000, 0x60000000}));
  }
}

uint64_t random_double(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0:
      return rng();
    case 1:
      return (rng() & 0x800fffffffffffff) | ((0x3e0 + rng() % 64) << 52);
    default:
      return pick(rng,
                  {0x0000000000000000, 0x8000000000000000, 0x3ff0000000000000, 0xbff0000000000000,
                   0x3ff8000000000000, 0x4004000000000000, 0xc004000000000000, 0x7ff0000000000000,
                   0xfff0000000000000, 0x7ff8000000000000, 0xfff8000000000000, 0x7ff8000012345678,
                   0x7ff0000000000001, 0xfff4000000000000, 0x0000000000000001, 0x000fffffffffffff,
                   0x8008000000000000, 0x0010000000000000, 0x7fefffffffffffff, 0xffefffffffffffff,
                   0x41e0000000000000, 0xc1e0000000000000, 0x41dfffffffc00000, 0xc1e0000000200000,
                   0x43e0000000000000, 0xc3e0000000000000, 0x47efffffe0000000, 0x36a0000000000000,
                   0x3690000000000000, 0x47f0000000000000, 0x3810000000000000, 0x380fffffffffffff,
                   0x43300000000000ff});
  }
}

uint64_t random_integer(std::mt19937_64& rng) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    const uint64_t byte = pick(rng, {0x00, 0x01, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x55, 0x10});
    v |= (rng() % 3 == 0 ? (rng() & 0xff) : byte) << (8 * i);
  }
  return v;
}

uint64_t random_quad(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0:
      return random_float(rng) | (uint64_t{random_float(rng)} << 32);
    case 1:
      return random_double(rng);
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
template <class T>
T get(const uint8_t* p, size_t offset) {
  T value;
  std::memcpy(&value, p + offset, sizeof(T));
  return value;
}

}  // namespace

void set_mxcsr(SimdInput& input, uint32_t mxcsr) {
  put<uint32_t>(input.state.fxsave, kMxcsrOffset, mxcsr);
}
uint32_t mxcsr_of(const SimdInput& input) {
  return get<uint32_t>(input.state.fxsave, kMxcsrOffset);
}
void set_xmm(SimdInput& input, unsigned index, uint64_t low, uint64_t high) {
  put<uint64_t>(input.state.fxsave, kXmmOffset + 16 * index, low);
  put<uint64_t>(input.state.fxsave, kXmmOffset + 16 * index + 8, high);
}

uint64_t xmm_low(const SimdInput& input, unsigned index) {
  return get<uint64_t>(input.state.fxsave, kXmmOffset + 16 * index);
}
uint64_t xmm_high(const SimdInput& input, unsigned index) {
  return get<uint64_t>(input.state.fxsave, kXmmOffset + 16 * index + 8);
}
void set_mm(SimdInput& input, unsigned index, uint64_t value) {
  put<uint64_t>(input.state.fxsave, kStOffset + 16 * index, value);
}
uint64_t st_significand(const SimdInput& input, unsigned index) {
  return get<uint64_t>(input.state.fxsave, kStOffset + 16 * index);
}
uint16_t st_exponent(const SimdInput& input, unsigned index) {
  return get<uint16_t>(input.state.fxsave, kStOffset + 16 * index + 8);
}

bool same_simd_state(const SimdInput& a, const SimdInput& b) {
  const uint8_t* x = a.state.fxsave;
  const uint8_t* y = b.state.fxsave;
  return std::memcmp(x, y, 5) == 0 && std::memcmp(x + kMxcsrOffset, y + kMxcsrOffset, 4) == 0 &&
         std::memcmp(x + kStOffset, y + kStOffset, kXmmOffset + 256 - kStOffset) == 0;
}

SimdInput zero_input(uint32_t mxcsr) {
  SimdInput in;
  put<uint16_t>(in.state.fxsave, 0, 0x037f);
  set_mxcsr(in, mxcsr);
  in.state.rflags = 0x202;
  return in;
}

SimdInput random_input(std::mt19937_64& rng, bool unmasked) {
  SimdInput in;
  uint8_t* fx = in.state.fxsave;
  put<uint16_t>(fx, 0, 0x037f);                                    // FCW: x87 exceptions masked
  put<uint16_t>(fx, 2, static_cast<uint16_t>((rng() % 8) << 11));  // FSW: a random TOP
  put<uint8_t>(fx, 4, static_cast<uint8_t>(rng()));                // abridged tags
  if (rng() % 32 == 0) {  // a pending x87 exception: FSW.ES and B with IE unmasked in FCW
    put<uint16_t>(fx, 0, 0x037e);
    put<uint16_t>(fx, 2, static_cast<uint16_t>(get<uint16_t>(fx, 2) | 0x8081));
  }
  uint32_t mxcsr = static_cast<uint32_t>((rng() % 4) << 13) | 0x1f80;
  if (rng() % 4 == 0) mxcsr |= 0x40;    // DAZ
  if (rng() % 4 == 0) mxcsr |= 0x8000;  // FTZ
  if (rng() % 2 == 0) mxcsr |= rng() % 64;
  if (unmasked) mxcsr &= ~static_cast<uint32_t>((rng() % 64) << 7);
  set_mxcsr(in, mxcsr);
  for (unsigned i = 0; i < 8; ++i) {
    put<uint64_t>(fx, kStOffset + 16 * i, random_quad(rng));
    put<uint16_t>(fx, kStOffset + 16 * i + 8, static_cast<uint16_t>(rng()));
  }
  for (unsigned i = 0; i < 16; ++i) set_xmm(in, i, random_quad(rng), random_quad(rng));
  for (auto& r : in.state.gpr) {
    r = rng() % 2 ? random_quad(rng)
                  : pick(rng, {0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 0xffffffff80000000,
                               0x7fffffffffffffff, 0x8000000000000000, ~uint64_t{0}, 12345});
  }
  in.state.rflags = 0x202 | (rng() & 0x8d5);
  for (size_t i = 0; i < sizeof(in.memory); i += 8) put<uint64_t>(in.memory, i, random_quad(rng));
  return in;
}

}  // namespace cella::testing
