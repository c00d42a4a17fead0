// Shifts and rotates: SHL/SAL SHR SAR ROL ROR RCL RCR SHLD SHRD (SDM Vol. 2B SAL/SAR/SHL/SHR,
// RCL/RCR/ROL/ROR, SHLD, SHRD). Every form masks its count to 5 bits (6 with a 64-bit
// operand); a masked count of 0 changes no flag, but the destination is still written (a
// 32-bit register is zero-extended, as the host processor does).
#include "engines/soft/decoder/decoder.h"
#include "engines/soft/exec/common.h"

namespace cella::soft {

namespace {

using namespace attr;
namespace rf = x86::rflags;

template <class T>
constexpr unsigned count_mask() {
  return sizeof(T) == 8 ? 0x3f : 0x1f;
}

// The masked count before the instruction, for undefined_flags: the count operand (CL, an
// immediate or the constant 1) is operand `index` of the form.
unsigned count_before(const SoftCpu& before, const Insn& insn, size_t index) {
  const unsigned mask = insn.opsize == 8 ? 0x3f : 0x1f;
  switch (Decoder::instance().form(insn.form).operand_list[index].kind) {
    case OperandKind::kCl:
      return static_cast<unsigned>(before.gpr[1]) & mask;
    case OperandKind::kOne:
      return 1;
    default:
      return static_cast<unsigned>(static_cast<uint8_t>(insn.imm)) & mask;
  }
}

// ---- SHL SHR SAR: flags are lazy (lazy_flags.cc has CF/OF and the undefined-flag values) ----

struct ShlOp {
  static constexpr FlagOp kFlagOp = FlagOp::kShl;
  template <class T>
  static T apply(T a, unsigned count) {
    return static_cast<T>(static_cast<uint64_t>(a) << count);  // count < 64
  }
};
struct ShrOp {
  static constexpr FlagOp kFlagOp = FlagOp::kShr;
  template <class T>
  static T apply(T a, unsigned count) {
    return static_cast<T>(static_cast<uint64_t>(a) >> count);
  }
};
struct SarOp {
  static constexpr FlagOp kFlagOp = FlagOp::kSar;
  template <class T>
  static T apply(T a, unsigned count) {
    const auto wide = static_cast<int64_t>(static_cast<std::make_signed_t<T>>(a));
    return static_cast<T>(wide >> count);
  }
};

template <class Op>
struct Shift {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    uint8_t count_operand = 0;
    Arg<kOps, 1, kMem>::template read<uint8_t>(cpu, insn, count_operand);
    const unsigned count = count_operand & count_mask<T>();
    auto op = [&](T a) {
      if (count == 0) return a;
      const T r = Op::template apply<T>(a, count);
      cpu.flags.record(Op::kFlagOp, r, a, static_cast<T>(count));
      return r;
    };
    return Arg<kOps, 0, kMem>::template update<T>(cpu, insn, op) ? Status::kNext : Status::kFault;
  }
  // AF whenever the count is nonzero, OF beyond a count of 1, and CF of SHL/SHR once the
  // count reaches the operand width (only 8/16-bit operands can).
  static uint64_t undefined_flags(const SoftCpu& before, const Insn& insn) {
    const unsigned count = count_before(before, insn, 1);
    if (count == 0) return 0;
    uint64_t undefined = rf::kAf | (count > 1 ? rf::kOf : 0);
    if (Op::kFlagOp != FlagOp::kSar && count >= insn.opsize * 8u) undefined |= rf::kCf;
    return undefined;
  }
};

// ---- ROL ROR RCL RCR: only CF and OF change (SF ZF AF PF are unaffected) ----

// Rotation of the operand, through CF for RCL/RCR: (result, CF after).
template <class T>
struct Rotated {
  T value;
  bool carry;
};

template <class T>
constexpr T rotate_left(T a, unsigned n) {  // n < bits
  constexpr unsigned kBits = bit_width<T>();
  return n == 0 ? a : static_cast<T>((a << n) | (a >> (kBits - n)));
}

struct RolOp {
  static constexpr bool kThroughCarry = false;
  template <class T>
  static Rotated<T> apply(T a, unsigned count, bool) {
    const T r = rotate_left<T>(a, count % bit_width<T>());
    return {r, (r & 1) != 0};  // CF = LSB(DEST) after ROL
  }
};
struct RorOp {
  static constexpr bool kThroughCarry = false;
  template <class T>
  static Rotated<T> apply(T a, unsigned count, bool) {
    constexpr unsigned kBits = bit_width<T>();
    const T r = rotate_left<T>(a, (kBits - count % kBits) % kBits);
    return {r, msb(r)};  // CF = MSB(DEST) after ROR
  }
};

// RCL/RCR rotate the (width + 1)-bit value CF:DEST; 8/16-bit counts are taken modulo 9/17.
template <bool kLeft>
struct RotateThroughCarry {
  static constexpr bool kThroughCarry = true;
  template <class T>
  static Rotated<T> apply(T a, unsigned count, bool carry) {
    using U = unsigned __int128;
    constexpr unsigned kWidth = bit_width<T>() + 1;
    const unsigned n = count % kWidth;
    if (n == 0) return {a, carry};
    const U mask = (U{1} << kWidth) - 1;
    const U wide = (U{carry} << (kWidth - 1)) | a;
    const unsigned left = kLeft ? n : kWidth - n;
    const U rotated = ((wide << left) | (wide >> (kWidth - left))) & mask;
    return {static_cast<T>(rotated), ((rotated >> (kWidth - 1)) & 1) != 0};
  }
};
using RclOp = RotateThroughCarry<true>;
using RcrOp = RotateThroughCarry<false>;

// OF after a rotation by one: ROL/RCL MSB(DEST) XOR CF; ROR/RCR the XOR of the two most
// significant result bits. Cella applies the same formula for larger counts (OF undefined).
template <class Op>
constexpr bool rotate_overflow_is_left() {
  return std::is_same_v<Op, RolOp> || std::is_same_v<Op, RclOp>;
}

template <class Op>
struct Rotate {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    uint8_t count_operand = 0;
    Arg<kOps, 1, kMem>::template read<uint8_t>(cpu, insn, count_operand);
    const unsigned count = count_operand & count_mask<T>();
    const bool carry_in = Op::kThroughCarry && cpu.flags.carry();
    Rotated<T> rotated{};
    auto op = [&](T a) {
      rotated = count == 0 ? Rotated<T>{a, carry_in} : Op::template apply<T>(a, count, carry_in);
      return rotated.value;
    };
    if (!Arg<kOps, 0, kMem>::template update<T>(cpu, insn, op)) return Status::kFault;
    if (count == 0) return Status::kNext;
    const T r = rotated.value;
    const bool overflow = rotate_overflow_is_left<Op>()
                              ? msb(r) != rotated.carry
                              : msb(r) != (((r >> (bit_width<T>() - 2)) & 1) != 0);
    cpu.flags.set_status_bits(rf::kCf | rf::kOf,
                              (rotated.carry ? rf::kCf : 0) | (overflow ? rf::kOf : 0));
    return Status::kNext;
  }
  static uint64_t undefined_flags(const SoftCpu& before, const Insn& insn) {
    return count_before(before, insn, 1) > 1 ? rf::kOf : 0;
  }
};

// ---- SHLD SHRD: DEST is shifted, the vacated bits filled from SRC ----
//
// A 16-bit operand with a count of 17..31 has an undefined result and flags; Cella computes
// what the host processor (AMD Zen 4) does: SHLD shifts the 48-bit DEST:SRC:SRC and SHRD the
// 48-bit SRC:SRC:DEST, which for counts up to 16 is the defined result. CF is the last bit
// shifted out of that value, OF follows the count-1 formula (sign change) and AF is clear.
template <bool kLeft>
struct DoubleShift {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    using U = unsigned __int128;
    constexpr unsigned kBits = bit_width<T>();
    constexpr unsigned kTotal = kBits == 16 ? 48 : 2 * kBits;
    T src{};
    uint8_t count_operand = 0;
    Arg<kOps, 1, kMem>::template read<T>(cpu, insn, src);
    Arg<kOps, 2, kMem>::template read<uint8_t>(cpu, insn, count_operand);
    const unsigned count = count_operand & count_mask<T>();
    uint64_t flags = 0;
    auto op = [&](T a) {
      if (count == 0) return a;
      U wide;
      T r;
      bool carry;
      if constexpr (kLeft) {
        wide = (U{a} << (kTotal - kBits)) | (U{src} << (kTotal - 2 * kBits));
        if constexpr (kBits == 16) wide |= src;
        r = static_cast<T>((wide << count) >> (kTotal - kBits));
        carry = ((wide >> (kTotal - count)) & 1) != 0;
      } else {
        wide = (U{src} << kBits) | a;
        if constexpr (kBits == 16) wide |= U{src} << 32;
        r = static_cast<T>(wide >> count);
        carry = ((wide >> (count - 1)) & 1) != 0;
      }
      flags = result_flags(r) | (carry ? rf::kCf : 0) | (msb(r) != msb(a) ? rf::kOf : 0);
      return r;
    };
    if (!Arg<kOps, 0, kMem>::template update<T>(cpu, insn, op)) return Status::kFault;
    if (count != 0) cpu.flags.set_status(flags);
    return Status::kNext;
  }
  static uint64_t undefined_flags(const SoftCpu& before, const Insn& insn) {
    const unsigned count = count_before(before, insn, 2);
    if (count == 0) return 0;
    if (count > insn.opsize * 8u) return rf::kStatus;
    return rf::kAf | (count > 1 ? rf::kOf : 0);
  }
};

using Shl = Shift<ShlOp>;
using Shr = Shift<ShrOp>;
using Sar = Shift<SarOp>;
using Rol = Rotate<RolOp>;
using Ror = Rotate<RorOp>;
using Rcl = Rotate<RclOp>;
using Rcr = Rotate<RcrOp>;

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic opcode      operands     attributes semantics
    FORM("ROL",  "C0 /0",    "Eb,Ib",    0, Rol),
    FORM("ROL",  "C1 /0",    "Ev,Ib",    0, Rol),
    FORM("ROL",  "D0 /0",    "Eb,1",     0, Rol),
    FORM("ROL",  "D1 /0",    "Ev,1",     0, Rol),
    FORM("ROL",  "D2 /0",    "Eb,CL",    0, Rol),
    FORM("ROL",  "D3 /0",    "Ev,CL",    0, Rol),
    FORM("ROR",  "C0 /1",    "Eb,Ib",    0, Ror),
    FORM("ROR",  "C1 /1",    "Ev,Ib",    0, Ror),
    FORM("ROR",  "D0 /1",    "Eb,1",     0, Ror),
    FORM("ROR",  "D1 /1",    "Ev,1",     0, Ror),
    FORM("ROR",  "D2 /1",    "Eb,CL",    0, Ror),
    FORM("ROR",  "D3 /1",    "Ev,CL",    0, Ror),
    FORM("RCL",  "C0 /2",    "Eb,Ib",    0, Rcl),
    FORM("RCL",  "C1 /2",    "Ev,Ib",    0, Rcl),
    FORM("RCL",  "D0 /2",    "Eb,1",     0, Rcl),
    FORM("RCL",  "D1 /2",    "Ev,1",     0, Rcl),
    FORM("RCL",  "D2 /2",    "Eb,CL",    0, Rcl),
    FORM("RCL",  "D3 /2",    "Ev,CL",    0, Rcl),
    FORM("RCR",  "C0 /3",    "Eb,Ib",    0, Rcr),
    FORM("RCR",  "C1 /3",    "Ev,Ib",    0, Rcr),
    FORM("RCR",  "D0 /3",    "Eb,1",     0, Rcr),
    FORM("RCR",  "D1 /3",    "Ev,1",     0, Rcr),
    FORM("RCR",  "D2 /3",    "Eb,CL",    0, Rcr),
    FORM("RCR",  "D3 /3",    "Ev,CL",    0, Rcr),
    FORM("SHL",  "C0 /4",    "Eb,Ib",    0, Shl),
    FORM("SHL",  "C1 /4",    "Ev,Ib",    0, Shl),
    FORM("SHL",  "D0 /4",    "Eb,1",     0, Shl),
    FORM("SHL",  "D1 /4",    "Ev,1",     0, Shl),
    FORM("SHL",  "D2 /4",    "Eb,CL",    0, Shl),
    FORM("SHL",  "D3 /4",    "Ev,CL",    0, Shl),
    FORM("SHR",  "C0 /5",    "Eb,Ib",    0, Shr),
    FORM("SHR",  "C1 /5",    "Ev,Ib",    0, Shr),
    FORM("SHR",  "D0 /5",    "Eb,1",     0, Shr),
    FORM("SHR",  "D1 /5",    "Ev,1",     0, Shr),
    FORM("SHR",  "D2 /5",    "Eb,CL",    0, Shr),
    FORM("SHR",  "D3 /5",    "Ev,CL",    0, Shr),
    // /6 is an alias of SHL/SAL (AMD APM Vol. 3 "SAL"; reserved in the SDM, executes as SHL).
    FORM("SAL",  "C0 /6",    "Eb,Ib",    0, Shl),
    FORM("SAL",  "C1 /6",    "Ev,Ib",    0, Shl),
    FORM("SAL",  "D0 /6",    "Eb,1",     0, Shl),
    FORM("SAL",  "D1 /6",    "Ev,1",     0, Shl),
    FORM("SAL",  "D2 /6",    "Eb,CL",    0, Shl),
    FORM("SAL",  "D3 /6",    "Ev,CL",    0, Shl),
    FORM("SAR",  "C0 /7",    "Eb,Ib",    0, Sar),
    FORM("SAR",  "C1 /7",    "Ev,Ib",    0, Sar),
    FORM("SAR",  "D0 /7",    "Eb,1",     0, Sar),
    FORM("SAR",  "D1 /7",    "Ev,1",     0, Sar),
    FORM("SAR",  "D2 /7",    "Eb,CL",    0, Sar),
    FORM("SAR",  "D3 /7",    "Ev,CL",    0, Sar),
    FORM("SHLD", "0F A4 /r", "Ev,Gv,Ib", 0, DoubleShift<true>),
    FORM("SHLD", "0F A5 /r", "Ev,Gv,CL", 0, DoubleShift<true>),
    FORM("SHRD", "0F AC /r", "Ev,Gv,Ib", 0, DoubleShift<false>),
    FORM("SHRD", "0F AD /r", "Ev,Gv,CL", 0, DoubleShift<false>),
};
// clang-format on

}  // namespace

std::span<const FormSpec> shift_forms() {
  return kForms;
}

}  // namespace cella::soft
