// SIMD floating-point exceptions and the exactness rules behind unmasked overflow and underflow
// (sse_fp.h).
#include "engines/soft/exec/sse_fp.h"

#include <bit>
#include <cmath>

namespace cella::soft {

bool raise_simd_fp(SoftCpu& cpu, uint32_t flags) {
  const uint32_t unmasked = flags & ~(cpu.arch.mxcsr >> mx::kMaskShift) & mx::kFlags;
  const uint32_t pre = flags & (mx::kIe | mx::kDe | mx::kZe);
  cpu.arch.mxcsr |= (unmasked & pre) ? pre : flags;
  cpu.raise((cpu.arch.cr4 & x86::cr4::kOsxmmexcpt) ? x86::Vector::kSimdFloatingPoint
                                                   : x86::Vector::kInvalidOpcode);
  return false;
}

uint32_t host_mxcsr_control() {
  static thread_local const uint32_t control = [] {
    uint32_t value;
    asm volatile("stmxcsr %0" : "=m"(value));
    return value & ~mx::kFlags;
  }();
  return control;
}

bool host_has_sse3() {
  static const bool has = __builtin_cpu_supports("sse3");
  return has;
}
bool host_has_sse41() {
  static const bool has = __builtin_cpu_supports("sse4.1");
  return has;
}

namespace {

// IEEE 754 binary32/binary64 layout (SDM Vol. 1 4.2.2).
template <class Bits>
struct Format {
  static constexpr int kFraction = sizeof(Bits) == 4 ? 23 : 52;
  static constexpr int kPrecision = kFraction + 1;
  static constexpr int kBias = sizeof(Bits) == 4 ? 127 : 1023;
  static constexpr Bits kExponentMask = sizeof(Bits) == 4 ? 0xff : 0x7ff;
  using Float = std::conditional_t<sizeof(Bits) == 4, float, double>;
};

// A finite value as significand * 2^exponent.
struct Unpacked {
  uint64_t significand = 0;
  int exponent = 0;
};

template <class Bits>
Unpacked unpack(Bits bits, bool daz) {
  using F = Format<Bits>;
  const Bits fraction = bits & ((Bits{1} << F::kFraction) - 1);
  const int biased = static_cast<int>((bits >> F::kFraction) & F::kExponentMask);
  if (biased == 0) {  // zero or denormal (SDM Vol. 1 4.8.3.2); DAZ reads denormals as zeros
    if (daz) return {};
    return {fraction, 1 - F::kBias - F::kFraction};
  }
  return {fraction | (Bits{1} << F::kFraction), biased - F::kBias - F::kFraction};
}

uint64_t odd_part(uint64_t v) {
  return v >> std::countr_zero(v);
}

// x + y (or x - y) rounded to nearest on the host: exact iff the host raises no PE.
template <class Float>
bool host_sum_exact(Float x, Float y, bool subtract) {
  __m128i a, b;
  if constexpr (sizeof(Float) == 4) {
    a = _mm_castps_si128(_mm_set_ss(x));
    b = _mm_castps_si128(_mm_set_ss(y));
  } else {
    a = _mm_castpd_si128(_mm_set_sd(x));
    b = _mm_castpd_si128(_mm_set_sd(y));
  }
  HostMxcsr host(mx::kDefault);
  if constexpr (sizeof(Float) == 4) {
    if (subtract)
      asm volatile("subss %1, %0" : "+x"(a) : "x"(b));
    else
      asm volatile("addss %1, %0" : "+x"(a) : "x"(b));
  } else {
    if (subtract)
      asm volatile("subsd %1, %0" : "+x"(a) : "x"(b));
    else
      asm volatile("addsd %1, %0" : "+x"(a) : "x"(b));
  }
  return (host.flags() & mx::kPe) == 0;
}

template <class Bits>
bool unbounded_exact(FpKind kind, Bits x, Bits y, bool daz) {
  using F = Format<Bits>;
  const Unpacked ux = unpack(x, daz), uy = unpack(y, daz);
  switch (kind) {
    case FpKind::kNarrow:  // double to single: at most 24 significant bits
      return uy.significand == 0 || odd_part(uy.significand) < (uint64_t{1} << 24);
    case FpKind::kMul:  // the odd part of the product is the product of the odd parts
      if (ux.significand == 0 || uy.significand == 0) return true;
      return static_cast<unsigned __int128>(odd_part(ux.significand)) * odd_part(uy.significand) <
             (static_cast<unsigned __int128>(1) << F::kPrecision);
    case FpKind::kDiv:  // a dyadic quotient needs the divisor's odd part to divide the dividend's
      if (ux.significand == 0 || uy.significand == 0) return true;
      return odd_part(ux.significand) % odd_part(uy.significand) == 0;
    case FpKind::kAdd:
    case FpKind::kSub: {
      if (ux.significand == 0 || uy.significand == 0) return true;
      // Exponents of the leading bits. Apart by more than 2p + 2, the exact sum spans more than
      // p bits; otherwise both scale to near 1 exactly and the host rounds their sum.
      const int ex = ux.exponent + std::bit_width(ux.significand) - 1;
      const int ey = uy.exponent + std::bit_width(uy.significand) - 1;
      const int top = ex > ey ? ex : ey;
      if ((ex > ey ? ex - ey : ey - ex) > 2 * F::kPrecision + 2) return false;
      using Float = typename F::Float;
      const Float sx = std::ldexp(static_cast<Float>(ux.significand), ux.exponent - top);
      const Float sy = std::ldexp(static_cast<Float>(uy.significand), uy.exponent - top);
      const bool negative_x = (x >> (sizeof(Bits) * 8 - 1)) & 1;
      const bool negative_y = (y >> (sizeof(Bits) * 8 - 1)) & 1;
      return host_sum_exact<Float>(negative_x ? -sx : sx, negative_y ? -sy : sy,
                                   kind == FpKind::kSub);
    }
  }
  return true;
}

}  // namespace

bool unbounded_exact_f32(FpKind kind, uint32_t x, uint32_t y, bool daz) {
  return unbounded_exact<uint32_t>(kind, x, y, daz);
}
bool unbounded_exact_f64(FpKind kind, uint64_t x, uint64_t y, bool daz) {
  return unbounded_exact<uint64_t>(kind, x, y, daz);
}

}  // namespace cella::soft
