// Multiplication and division: MUL IMUL (one, two and three operands) DIV IDIV (SDM Vol. 2A
// IMUL, DIV, IDIV; Vol. 2B MUL). The one-operand forms use AX (8-bit: AH:AL) or rDX:rAX.
#include "engines/soft/exec/common.h"

namespace cella::soft {

namespace {

using namespace attr;
namespace rf = x86::rflags;

// The double-width type of an operand size, unsigned and signed.
template <class T>
struct Wide;
template <>
struct Wide<uint8_t> {
  using U = uint16_t;
  using S = int16_t;
};
template <>
struct Wide<uint16_t> {
  using U = uint32_t;
  using S = int32_t;
};
template <>
struct Wide<uint32_t> {
  using U = uint64_t;
  using S = int64_t;
};
template <>
struct Wide<uint64_t> {
  using U = unsigned __int128;
  using S = __int128;
};

struct Product {
  uint64_t low, high;
  bool overflow;  // CF = OF: the product does not fit the low half (sign-extended for IMUL)
};

template <class T, bool kSigned>
Product multiply(T a, T b) {
  constexpr unsigned kBits = bit_width<T>();
  if constexpr (kSigned) {
    using S = typename Wide<T>::S;
    using Narrow = std::make_signed_t<T>;
    const S product =
        static_cast<S>(static_cast<Narrow>(a)) * static_cast<S>(static_cast<Narrow>(b));
    const T low = static_cast<T>(product);
    return {low, static_cast<T>(static_cast<typename Wide<T>::U>(product) >> kBits),
            product != static_cast<S>(static_cast<Narrow>(low))};
  } else {
    using U = typename Wide<T>::U;
    const U product = static_cast<U>(a) * static_cast<U>(b);
    const T high = static_cast<T>(product >> kBits);
    return {static_cast<T>(product), high, high != 0};
  }
}

// MUL r/m / IMUL r/m: rDX:rAX = rAX * src (AX = AL * src for bytes).
template <bool kSigned>
struct MultiplyAccumulator {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    T src{};
    if (!Arg<kOps, 0, kMem>::template read<T>(cpu, insn, src)) return Status::kFault;
    const Product p = multiply<T, kSigned>(cpu.reg<T>(0), src);
    if constexpr (sizeof(T) == 1) {
      cpu.set_reg<uint16_t>(0, static_cast<uint16_t>(p.low | (p.high << 8)));
    } else {
      cpu.set_reg<T>(0, static_cast<T>(p.low));
      cpu.set_reg<T>(2 * 8, static_cast<T>(p.high));
    }
    cpu.flags.record(FlagOp::kMul, static_cast<T>(p.low), T{p.overflow}, T{0});
    return Status::kNext;
  }
  static constexpr uint64_t kUndefinedFlags = rf::kSf | rf::kZf | rf::kAf | rf::kPf;
};

// IMUL r, r/m (dest *= src) and IMUL r, r/m, imm (dest = src * imm): the truncated product.
struct MultiplySigned {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    T a{}, b{};
    if (!Arg<kOps, 1, kMem>::template read<T>(cpu, insn, a)) return Status::kFault;
    if constexpr (kOps.count == 3)
      Arg<kOps, 2, kMem>::template read<T>(cpu, insn, b);
    else
      Arg<kOps, 0, kMem>::template read<T>(cpu, insn, b);
    const Product p = multiply<T, true>(a, b);
    cpu.set_reg<T>(insn.reg, static_cast<T>(p.low));
    cpu.flags.record(FlagOp::kMul, static_cast<T>(p.low), T{p.overflow}, T{0});
    return Status::kNext;
  }
  static constexpr uint64_t kUndefinedFlags = rf::kSf | rf::kZf | rf::kAf | rf::kPf;
};

// DIV r/m / IDIV r/m: rAX = rDX:rAX / src, rDX = remainder (AL, AH = AX / src for bytes).
// #DE on a zero divisor or a quotient that does not fit (SDM Vol. 2A DIV/IDIV, including
// the most negative dividend divided by -1). IDIV truncates toward zero; the remainder has
// the dividend's sign. All six status flags are undefined: Cella leaves them unchanged.
template <bool kSigned>
struct Divide {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    using U = typename Wide<T>::U;
    constexpr unsigned kBits = bit_width<T>();
    T divisor{};
    if (!Arg<kOps, 0, kMem>::template read<T>(cpu, insn, divisor)) return Status::kFault;
    if (divisor == 0) return cpu.raise(x86::Vector::kDivideError);
    U dividend;
    if constexpr (sizeof(T) == 1)
      dividend = cpu.reg<uint16_t>(0);
    else
      dividend = (static_cast<U>(cpu.reg<T>(2 * 8)) << kBits) | cpu.reg<T>(0);
    T quotient, remainder;
    if constexpr (kSigned) {
      // Magnitudes in unsigned arithmetic: no host overflow for any operands.
      const bool dividend_negative = (dividend >> (2 * kBits - 1)) & 1;
      const bool divisor_negative = msb(divisor);
      const U magnitude = dividend_negative ? static_cast<U>(U{0} - dividend) : dividend;
      const U by = divisor_negative ? static_cast<T>(T{0} - divisor) : divisor;
      const U q = magnitude / by, r = magnitude % by;
      const bool negative = dividend_negative != divisor_negative;
      const U limit = (U{1} << (kBits - 1)) - (negative ? 0 : 1);
      if (q > limit) return cpu.raise(x86::Vector::kDivideError);
      quotient = static_cast<T>(negative ? U{0} - q : q);
      remainder = static_cast<T>(dividend_negative ? U{0} - r : r);
    } else {
      const U q = dividend / divisor;
      if (q >> kBits) return cpu.raise(x86::Vector::kDivideError);
      quotient = static_cast<T>(q);
      remainder = static_cast<T>(dividend % divisor);
    }
    if constexpr (sizeof(T) == 1) {
      cpu.set_reg<uint16_t>(0, static_cast<uint16_t>(quotient | (remainder << 8)));
    } else {
      cpu.set_reg<T>(0, quotient);
      cpu.set_reg<T>(2 * 8, remainder);
    }
    return Status::kNext;
  }
  static constexpr uint64_t kUndefinedFlags = rf::kStatus;
};

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic opcode      operands    attributes semantics
    FORM("MUL",  "F6 /4",    "Eb",       0, MultiplyAccumulator<false>),
    FORM("MUL",  "F7 /4",    "Ev",       0, MultiplyAccumulator<false>),
    FORM("IMUL", "F6 /5",    "Eb",       0, MultiplyAccumulator<true>),
    FORM("IMUL", "F7 /5",    "Ev",       0, MultiplyAccumulator<true>),
    FORM("IMUL", "0F AF /r", "Gv,Ev",    0, MultiplySigned),
    FORM("IMUL", "69 /r",    "Gv,Ev,Iz", 0, MultiplySigned),
    FORM("IMUL", "6B /r",    "Gv,Ev,Ib", 0, MultiplySigned),
    FORM("DIV",  "F6 /6",    "Eb",       0, Divide<false>),
    FORM("DIV",  "F7 /6",    "Ev",       0, Divide<false>),
    FORM("IDIV", "F6 /7",    "Eb",       0, Divide<true>),
    FORM("IDIV", "F7 /7",    "Ev",       0, Divide<true>),
};
// clang-format on

}  // namespace

std::span<const FormSpec> muldiv_forms() {
  return kForms;
}

}  // namespace cella::soft
