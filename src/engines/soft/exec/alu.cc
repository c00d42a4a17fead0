// Integer arithmetic and logic: ADD OR ADC SBB AND SUB XOR CMP TEST INC DEC NOT NEG
// (SDM Vol. 2A/2B, the instruction pages of each; flags per SDM Vol. 1 Appendix A).
#include "engines/soft/exec/common.h"

namespace cella::soft {

namespace {

using namespace attr;

// ---- Operations: (a, b) -> result, recording the lazy flags ----

struct Add {
  static constexpr bool kWrites = true;
  template <class T>
  static T apply(SoftCpu& cpu, T a, T b) {
    const T r = static_cast<T>(a + b);
    cpu.flags.record(FlagOp::kAdd, r, a, b);
    return r;
  }
};

struct Adc {
  static constexpr bool kWrites = true;
  template <class T>
  static T apply(SoftCpu& cpu, T a, T b) {
    const T carry = cpu.flags.carry() ? 1 : 0;
    const T r = static_cast<T>(a + b + carry);
    cpu.flags.record(FlagOp::kAdc, r, a, b);
    cpu.flags.carry_in = carry;
    return r;
  }
};

struct Sub {
  static constexpr bool kWrites = true;
  template <class T>
  static T apply(SoftCpu& cpu, T a, T b) {
    const T r = static_cast<T>(a - b);
    cpu.flags.record(FlagOp::kSub, r, a, b);
    return r;
  }
};

struct Sbb {
  static constexpr bool kWrites = true;
  template <class T>
  static T apply(SoftCpu& cpu, T a, T b) {
    const T borrow = cpu.flags.carry() ? 1 : 0;
    const T r = static_cast<T>(a - b - borrow);
    cpu.flags.record(FlagOp::kSbb, r, a, b);
    cpu.flags.carry_in = borrow;
    return r;
  }
};

struct Cmp : Sub {
  static constexpr bool kWrites = false;
};

template <class Fn>
struct Logic {
  static constexpr bool kWrites = true;
  // SDM Vol. 2A AND/OR/XOR: AF is undefined; Cella clears it (docs/cpu.md).
  static constexpr uint64_t kUndefinedFlags = x86::rflags::kAf;
  template <class T>
  static T apply(SoftCpu& cpu, T a, T b) {
    const T r = Fn::template op<T>(a, b);
    cpu.flags.record(FlagOp::kLogic, r, a, b);
    return r;
  }
};
struct AndFn {
  template <class T>
  static T op(T a, T b) {
    return a & b;
  }
};
struct OrFn {
  template <class T>
  static T op(T a, T b) {
    return a | b;
  }
};
struct XorFn {
  template <class T>
  static T op(T a, T b) {
    return a ^ b;
  }
};
using And = Logic<AndFn>;
using Or = Logic<OrFn>;
using Xor = Logic<XorFn>;
struct Test : And {
  static constexpr bool kWrites = false;
};

// ---- Semantics: dst = dst op src ----

template <class Operation>
struct Binary {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    using Dst = Arg<kOps, 0, kMem>;
    using Src = Arg<kOps, 1, kMem>;
    T src{};
    if (!Src::template read<T>(cpu, insn, src)) return Status::kFault;
    if constexpr (Operation::kWrites) {
      auto op = [&](T dst) { return Operation::template apply<T>(cpu, dst, src); };
      if (!Dst::template update<T>(cpu, insn, op)) return Status::kFault;
    } else {
      T dst{};
      if (!Dst::template read<T>(cpu, insn, dst)) return Status::kFault;
      Operation::template apply<T>(cpu, dst, src);
    }
    return Status::kNext;
  }
  static constexpr uint64_t kUndefinedFlags = [] {
    if constexpr (requires { Operation::kUndefinedFlags; })
      return Operation::kUndefinedFlags;
    else
      return uint64_t{0};
  }();
};

// INC/DEC: CF is preserved (SDM Vol. 2A INC).
template <bool kIncrement>
struct IncDec {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    const bool carry = cpu.flags.carry();
    auto op = [&](T a) {
      const T r = static_cast<T>(kIncrement ? a + 1 : a - 1);
      cpu.flags.record(kIncrement ? FlagOp::kInc : FlagOp::kDec, r, a, T{1});
      cpu.flags.carry_in = carry;
      return r;
    };
    return Arg<kOps, 0, kMem>::template update<T>(cpu, insn, op) ? Status::kNext : Status::kFault;
  }
};

struct Not {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    auto op = [](T a) { return static_cast<T>(~a); };  // flags unaffected
    return Arg<kOps, 0, kMem>::template update<T>(cpu, insn, op) ? Status::kNext : Status::kFault;
  }
};

// NEG: 0 - a; CF = (a != 0) (SDM Vol. 2B NEG), which is SUB's borrow from 0.
struct Neg {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    auto op = [&](T a) { return Sub::apply<T>(cpu, T{0}, a); };
    return Arg<kOps, 0, kMem>::template update<T>(cpu, insn, op) ? Status::kNext : Status::kFault;
  }
};

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic opcode    operands   attributes semantics
    FORM("ADD",  "00 /r", "Eb,Gb",  kLock, Binary<Add>),
    FORM("ADD",  "01 /r", "Ev,Gv",  kLock, Binary<Add>),
    FORM("ADD",  "02 /r", "Gb,Eb",  0,     Binary<Add>),
    FORM("ADD",  "03 /r", "Gv,Ev",  0,     Binary<Add>),
    FORM("ADD",  "04",    "AL,Ib",  0,     Binary<Add>),
    FORM("ADD",  "05",    "rAX,Iz", 0,     Binary<Add>),
    FORM("ADD",  "80 /0", "Eb,Ib",  kLock, Binary<Add>),
    FORM("ADD",  "81 /0", "Ev,Iz",  kLock, Binary<Add>),
    FORM("ADD",  "83 /0", "Ev,Ib",  kLock, Binary<Add>),
    FORM("OR",   "08 /r", "Eb,Gb",  kLock, Binary<Or>),
    FORM("OR",   "09 /r", "Ev,Gv",  kLock, Binary<Or>),
    FORM("OR",   "0A /r", "Gb,Eb",  0,     Binary<Or>),
    FORM("OR",   "0B /r", "Gv,Ev",  0,     Binary<Or>),
    FORM("OR",   "0C",    "AL,Ib",  0,     Binary<Or>),
    FORM("OR",   "0D",    "rAX,Iz", 0,     Binary<Or>),
    FORM("OR",   "80 /1", "Eb,Ib",  kLock, Binary<Or>),
    FORM("OR",   "81 /1", "Ev,Iz",  kLock, Binary<Or>),
    FORM("OR",   "83 /1", "Ev,Ib",  kLock, Binary<Or>),
    FORM("ADC",  "10 /r", "Eb,Gb",  kLock, Binary<Adc>),
    FORM("ADC",  "11 /r", "Ev,Gv",  kLock, Binary<Adc>),
    FORM("ADC",  "12 /r", "Gb,Eb",  0,     Binary<Adc>),
    FORM("ADC",  "13 /r", "Gv,Ev",  0,     Binary<Adc>),
    FORM("ADC",  "14",    "AL,Ib",  0,     Binary<Adc>),
    FORM("ADC",  "15",    "rAX,Iz", 0,     Binary<Adc>),
    FORM("ADC",  "80 /2", "Eb,Ib",  kLock, Binary<Adc>),
    FORM("ADC",  "81 /2", "Ev,Iz",  kLock, Binary<Adc>),
    FORM("ADC",  "83 /2", "Ev,Ib",  kLock, Binary<Adc>),
    FORM("SBB",  "18 /r", "Eb,Gb",  kLock, Binary<Sbb>),
    FORM("SBB",  "19 /r", "Ev,Gv",  kLock, Binary<Sbb>),
    FORM("SBB",  "1A /r", "Gb,Eb",  0,     Binary<Sbb>),
    FORM("SBB",  "1B /r", "Gv,Ev",  0,     Binary<Sbb>),
    FORM("SBB",  "1C",    "AL,Ib",  0,     Binary<Sbb>),
    FORM("SBB",  "1D",    "rAX,Iz", 0,     Binary<Sbb>),
    FORM("SBB",  "80 /3", "Eb,Ib",  kLock, Binary<Sbb>),
    FORM("SBB",  "81 /3", "Ev,Iz",  kLock, Binary<Sbb>),
    FORM("SBB",  "83 /3", "Ev,Ib",  kLock, Binary<Sbb>),
    FORM("AND",  "20 /r", "Eb,Gb",  kLock, Binary<And>),
    FORM("AND",  "21 /r", "Ev,Gv",  kLock, Binary<And>),
    FORM("AND",  "22 /r", "Gb,Eb",  0,     Binary<And>),
    FORM("AND",  "23 /r", "Gv,Ev",  0,     Binary<And>),
    FORM("AND",  "24",    "AL,Ib",  0,     Binary<And>),
    FORM("AND",  "25",    "rAX,Iz", 0,     Binary<And>),
    FORM("AND",  "80 /4", "Eb,Ib",  kLock, Binary<And>),
    FORM("AND",  "81 /4", "Ev,Iz",  kLock, Binary<And>),
    FORM("AND",  "83 /4", "Ev,Ib",  kLock, Binary<And>),
    FORM("SUB",  "28 /r", "Eb,Gb",  kLock, Binary<Sub>),
    FORM("SUB",  "29 /r", "Ev,Gv",  kLock, Binary<Sub>),
    FORM("SUB",  "2A /r", "Gb,Eb",  0,     Binary<Sub>),
    FORM("SUB",  "2B /r", "Gv,Ev",  0,     Binary<Sub>),
    FORM("SUB",  "2C",    "AL,Ib",  0,     Binary<Sub>),
    FORM("SUB",  "2D",    "rAX,Iz", 0,     Binary<Sub>),
    FORM("SUB",  "80 /5", "Eb,Ib",  kLock, Binary<Sub>),
    FORM("SUB",  "81 /5", "Ev,Iz",  kLock, Binary<Sub>),
    FORM("SUB",  "83 /5", "Ev,Ib",  kLock, Binary<Sub>),
    FORM("XOR",  "30 /r", "Eb,Gb",  kLock, Binary<Xor>),
    FORM("XOR",  "31 /r", "Ev,Gv",  kLock, Binary<Xor>),
    FORM("XOR",  "32 /r", "Gb,Eb",  0,     Binary<Xor>),
    FORM("XOR",  "33 /r", "Gv,Ev",  0,     Binary<Xor>),
    FORM("XOR",  "34",    "AL,Ib",  0,     Binary<Xor>),
    FORM("XOR",  "35",    "rAX,Iz", 0,     Binary<Xor>),
    FORM("XOR",  "80 /6", "Eb,Ib",  kLock, Binary<Xor>),
    FORM("XOR",  "81 /6", "Ev,Iz",  kLock, Binary<Xor>),
    FORM("XOR",  "83 /6", "Ev,Ib",  kLock, Binary<Xor>),
    FORM("CMP",  "38 /r", "Eb,Gb",  0,     Binary<Cmp>),
    FORM("CMP",  "39 /r", "Ev,Gv",  0,     Binary<Cmp>),
    FORM("CMP",  "3A /r", "Gb,Eb",  0,     Binary<Cmp>),
    FORM("CMP",  "3B /r", "Gv,Ev",  0,     Binary<Cmp>),
    FORM("CMP",  "3C",    "AL,Ib",  0,     Binary<Cmp>),
    FORM("CMP",  "3D",    "rAX,Iz", 0,     Binary<Cmp>),
    FORM("CMP",  "80 /7", "Eb,Ib",  0,     Binary<Cmp>),
    FORM("CMP",  "81 /7", "Ev,Iz",  0,     Binary<Cmp>),
    FORM("CMP",  "83 /7", "Ev,Ib",  0,     Binary<Cmp>),
    FORM("TEST", "84 /r", "Eb,Gb",  0,     Binary<Test>),
    FORM("TEST", "85 /r", "Ev,Gv",  0,     Binary<Test>),
    FORM("TEST", "A8",    "AL,Ib",  0,     Binary<Test>),
    FORM("TEST", "A9",    "rAX,Iz", 0,     Binary<Test>),
    FORM("TEST", "F6 /0", "Eb,Ib",  0,     Binary<Test>),
    FORM("TEST", "F7 /0", "Ev,Iz",  0,     Binary<Test>),
    FORM("TEST", "F6 /1", "Eb,Ib",  0,     Binary<Test>),  // undocumented alias of /0
    FORM("TEST", "F7 /1", "Ev,Iz",  0,     Binary<Test>),  // undocumented alias of /0
    FORM("NOT",  "F6 /2", "Eb",     kLock, Not),
    FORM("NOT",  "F7 /2", "Ev",     kLock, Not),
    FORM("NEG",  "F6 /3", "Eb",     kLock, Neg),
    FORM("NEG",  "F7 /3", "Ev",     kLock, Neg),
    FORM("INC",  "FE /0", "Eb",     kLock, IncDec<true>),
    FORM("INC",  "FF /0", "Ev",     kLock, IncDec<true>),
    FORM("DEC",  "FE /1", "Eb",     kLock, IncDec<false>),
    FORM("DEC",  "FF /1", "Ev",     kLock, IncDec<false>),
};
// clang-format on

}  // namespace

std::span<const FormSpec> alu_forms() {
  return kForms;
}

}  // namespace cella::soft
