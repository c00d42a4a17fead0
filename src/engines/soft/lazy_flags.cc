#include "engines/soft/lazy_flags.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace cella::soft {

namespace {

using namespace x86::rflags;

template <class T>
constexpr uint64_t sign_bit(T value) {
  return (static_cast<uint64_t>(value) >> (sizeof(T) * 8 - 1)) & 1;
}

template <class T>
uint64_t zf_sf_pf(T result) {
  return result_flags(result);
}

// One function per (operation, size): the flags of `result = src1 op src2`.
template <class T>
uint64_t flags_add(const LazyFlags& f) {
  const T a = static_cast<T>(f.src1), b = static_cast<T>(f.src2), r = static_cast<T>(f.result);
  const bool carry = f.op == FlagOp::kAdc && f.carry_in ? r <= a : r < a;
  return zf_sf_pf(r) | (carry ? kCf : 0) | (((a ^ b ^ r) & 0x10) ? kAf : 0) |
         (sign_bit(static_cast<T>((a ^ r) & (b ^ r))) ? kOf : 0);
}

template <class T>
uint64_t flags_sub(const LazyFlags& f) {
  const T a = static_cast<T>(f.src1), b = static_cast<T>(f.src2), r = static_cast<T>(f.result);
  const bool borrow = f.op == FlagOp::kSbb && f.carry_in ? a <= b : a < b;
  return zf_sf_pf(r) | (borrow ? kCf : 0) | (((a ^ b ^ r) & 0x10) ? kAf : 0) |
         (sign_bit(static_cast<T>((a ^ b) & (a ^ r))) ? kOf : 0);
}

template <class T>
uint64_t flags_logic(const LazyFlags& f) {
  // SDM Vol. 2 AND/OR/XOR/TEST: OF and CF cleared, AF undefined (we clear it).
  return zf_sf_pf(static_cast<T>(f.result));
}

// INC/DEC: src2 is 1, CF is preserved (carry_in holds it).
template <class T>
uint64_t flags_inc(const LazyFlags& f) {
  const T r = static_cast<T>(f.result), a = static_cast<T>(f.src1);
  return zf_sf_pf(r) | (f.carry_in ? kCf : 0) | (((a ^ r) & 0x10) ? kAf : 0) |
         (r == static_cast<T>(T{1} << (sizeof(T) * 8 - 1)) ? kOf : 0);
}

template <class T>
uint64_t flags_dec(const LazyFlags& f) {
  const T r = static_cast<T>(f.result), a = static_cast<T>(f.src1);
  return zf_sf_pf(r) | (f.carry_in ? kCf : 0) | (((a ^ r) & 0x10) ? kAf : 0) |
         (a == static_cast<T>(T{1} << (sizeof(T) * 8 - 1)) ? kOf : 0);
}

// Shifts (SDM Vol. 2B SAL/SAR/SHL/SHR): CF is the last bit shifted out, OF is defined for a
// count of 1 only and AF is undefined. Cella's values where the SDM leaves them undefined
// (docs/cpu.md): OF follows the count-1 formula for every count, AF is clear, and CF for a
// count of at least the operand width (8/16-bit SHL/SHR) is the last bit shifted out of the
// operand extended with zeros, i.e. 0 beyond the width.
template <class T>
uint64_t flags_shl(const LazyFlags& f) {
  const T r = static_cast<T>(f.result);
  const unsigned count = static_cast<unsigned>(f.src2), bits = sizeof(T) * 8;
  const bool carry = count <= bits && ((f.src1 >> (bits - count)) & 1);
  return zf_sf_pf(r) | (carry ? kCf : 0) | ((sign_bit(r) != carry) ? kOf : 0);
}

template <class T>
uint64_t flags_shr(const LazyFlags& f) {
  const T r = static_cast<T>(f.result);
  const unsigned count = static_cast<unsigned>(f.src2), bits = sizeof(T) * 8;
  const bool carry = count <= bits && ((f.src1 >> (count - 1)) & 1);
  return zf_sf_pf(r) | (carry ? kCf : 0) | (sign_bit(static_cast<T>(f.src1)) ? kOf : 0);
}

template <class T>
uint64_t flags_sar(const LazyFlags& f) {
  const T r = static_cast<T>(f.result);
  const unsigned count = static_cast<unsigned>(f.src2), bits = sizeof(T) * 8;
  const bool carry = (f.src1 >> (count < bits ? count - 1 : bits - 1)) & 1;
  return zf_sf_pf(r) | (carry ? kCf : 0);  // OF is cleared for SAR by one
}

// MUL/IMUL (SDM Vol. 2A IMUL, Vol. 2B MUL): CF = OF = the product does not fit the low half;
// SF, ZF, AF, PF are undefined: Cella sets SF/ZF/PF from the low half and clears AF.
template <class T>
uint64_t flags_mul(const LazyFlags& f) {
  return zf_sf_pf(static_cast<T>(f.result)) | (f.src1 ? kCf | kOf : 0);
}

using FlagsFn = uint64_t (*)(const LazyFlags&);

// The four operand-size instances of a flags function, indexed by log2(size).
#define BY_SIZE(fn)                                           \
  std::array<FlagsFn, 4> {                                    \
    &fn<uint8_t>, &fn<uint16_t>, &fn<uint32_t>, &fn<uint64_t> \
  }

uint64_t flags_none(const LazyFlags& f) {
  return f.other & kStatus;
}

// Indexed by FlagOp.
const std::array<FlagsFn, 4> kFlagsFns[] = {
    {&flags_none, &flags_none, &flags_none, &flags_none},  // kNone
    BY_SIZE(flags_add),                                    // kAdd
    BY_SIZE(flags_add),                                    // kAdc
    BY_SIZE(flags_sub),                                    // kSub
    BY_SIZE(flags_sub),                                    // kSbb
    BY_SIZE(flags_logic),                                  // kLogic
    BY_SIZE(flags_inc),                                    // kInc
    BY_SIZE(flags_dec),                                    // kDec
    BY_SIZE(flags_shl),                                    // kShl
    BY_SIZE(flags_shr),                                    // kShr
    BY_SIZE(flags_sar),                                    // kSar
    BY_SIZE(flags_mul),                                    // kMul
};
static_assert(std::size(kFlagsFns) == static_cast<size_t>(FlagOp::kCount));
#undef BY_SIZE

}  // namespace

uint64_t LazyFlags::status() const {
  return kFlagsFns[static_cast<size_t>(op)][size_log2](*this);
}

bool LazyFlags::carry() const {
  // CF alone, without the other five flags: the common producers compare operands directly.
  const uint64_t mask = ~uint64_t{0} >> (64 - (8u << size_log2));
  switch (op) {
    case FlagOp::kAdd:
      return (result & mask) < (src1 & mask);
    case FlagOp::kSub:
      return (src1 & mask) < (src2 & mask);
    case FlagOp::kLogic:
      return false;
    case FlagOp::kInc:
    case FlagOp::kDec:
      return carry_in != 0;
    default:
      return status() & kCf;
  }
}

bool LazyFlags::test(Condition condition) const {
  // Fast path for the most common producer: CMP/SUB. Compare the operands directly.
  if (op == FlagOp::kSub) {
    const unsigned shift = 64 - (8u << size_log2);
    const uint64_t a = src1 << shift, b = src2 << shift;  // operands in the top bits
    const int64_t sa = static_cast<int64_t>(a), sb = static_cast<int64_t>(b);
    switch (condition) {
      case Condition::kB:
        return a < b;
      case Condition::kAe:
        return a >= b;
      case Condition::kE:
        return a == b;
      case Condition::kNe:
        return a != b;
      case Condition::kBe:
        return a <= b;
      case Condition::kA:
        return a > b;
      case Condition::kL:
        return sa < sb;
      case Condition::kGe:
        return sa >= sb;
      case Condition::kLe:
        return sa <= sb;
      case Condition::kG:
        return sa > sb;
      default:
        break;
    }
  }
  // Conditions that need only the result (ZF, SF), or that logic ops make trivial (CF = OF = 0).
  if (op != FlagOp::kNone) {
    const unsigned shift = 64 - (8u << size_log2);
    const uint64_t r = result << shift;
    const bool zero = r == 0, sign = static_cast<int64_t>(r) < 0;
    switch (condition) {
      case Condition::kE:
        return zero;
      case Condition::kNe:
        return !zero;
      case Condition::kS:
        return sign;
      case Condition::kNs:
        return !sign;
      default:
        break;
    }
    if (op == FlagOp::kLogic) {
      switch (condition) {
        case Condition::kO:
        case Condition::kB:
          return false;
        case Condition::kNo:
        case Condition::kAe:
          return true;
        case Condition::kBe:
          return zero;
        case Condition::kA:
          return !zero;
        case Condition::kL:
          return sign;
        case Condition::kGe:
          return !sign;
        case Condition::kLe:
          return zero || sign;
        case Condition::kG:
          return !zero && !sign;
        default:
          break;
      }
    }
  }
  const uint64_t f = status();
  const bool cf = f & kCf, zf = f & kZf, sf = f & kSf, of = f & kOf, pf = f & kPf;
  // Table B-1: each pair (even, odd) is a condition and its negation.
  bool value = false;
  switch (static_cast<Condition>(static_cast<uint8_t>(condition) & ~1u)) {
    case Condition::kO:
      value = of;
      break;
    case Condition::kB:
      value = cf;
      break;
    case Condition::kE:
      value = zf;
      break;
    case Condition::kBe:
      value = cf || zf;
      break;
    case Condition::kS:
      value = sf;
      break;
    case Condition::kP:
      value = pf;
      break;
    case Condition::kL:
      value = sf != of;
      break;
    case Condition::kLe:
      value = zf || (sf != of);
      break;
    default:
      break;
  }
  return (static_cast<uint8_t>(condition) & 1) ? !value : value;
}

}  // namespace cella::soft
