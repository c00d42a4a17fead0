// FormSpec: one instruction form, written in the table as the SDM writes it:
//
//   FORM("ADD", "00 /r", "Eb,Gb", kLock, Alu<Add>)
//         |      |        |        |      semantics: a class with
//         |      |        |        |        template <class T, bool kMem, OperandList kOps>
//         |      |        |        |        static Status exec(SoftCpu&, const Insn&)
//         |      |        |        attributes (below) and the CPUID feature of the form
//         |      |        operands, SDM Vol. 2D Appendix A.2 codes (decoder/operands.h)
//         |      opcode column of the SDM instruction summary (decoder/encoding.h)
//         mnemonic
//
// The decoder is generated from these lines, and each line instantiates its semantics for
// exactly the operand sizes and register/memory variants its operands allow.
#pragma once

#include <cstdint>
#include <span>

#include "cpu/x86/cpuid_policy.h"
#include "engines/soft/decoder/operands.h"
#include "engines/soft/insn.h"

namespace cella::soft {

// Form attributes.
namespace attr {
inline constexpr uint64_t kLock = 1 << 0;  // LOCK allowed (with a memory destination)
inline constexpr uint64_t kRep = 1 << 1;   // string instruction: F3/F2 are REP/REPE/REPNE
inline constexpr uint64_t kD64 = 1 << 2;   // SDM Vol. 2D A.2.5 d64: default 64-bit operand size
inline constexpr uint64_t kF64 = 1 << 3;   // SDM Vol. 2D A.2.5 f64: operand size forced to 64
inline constexpr uint64_t kEndsBlock = 1 << 4;  // control transfer or state change: ends a block
inline constexpr uint64_t kNoDiff = 1 << 5;     // not comparable with the host (see tests/diff)

// Bits 56-63: the CPUID feature that advertises the form (0: architectural baseline).
inline constexpr int kFeatureShift = 56;
constexpr uint64_t feature(x86::Feature f) {
  return (static_cast<uint64_t>(f) + 1) << kFeatureShift;
}
inline constexpr uint64_t kX87 = feature(x86::Feature::kFpu);
inline constexpr uint64_t kCmov = feature(x86::Feature::kCmov);
inline constexpr uint64_t kCx8 = feature(x86::Feature::kCx8);
inline constexpr uint64_t kCx16 = feature(x86::Feature::kCx16);
inline constexpr uint64_t kTsc = feature(x86::Feature::kTsc);
inline constexpr uint64_t kRdtscp = feature(x86::Feature::kRdtscp);
inline constexpr uint64_t kMmx = feature(x86::Feature::kMmx);
inline constexpr uint64_t kFxsr = feature(x86::Feature::kFxsr);
inline constexpr uint64_t kSse = feature(x86::Feature::kSse);
inline constexpr uint64_t kSse2 = feature(x86::Feature::kSse2);
inline constexpr uint64_t kSse3 = feature(x86::Feature::kSse3);
inline constexpr uint64_t kSsse3 = feature(x86::Feature::kSsse3);
inline constexpr uint64_t kSse41 = feature(x86::Feature::kSse41);
inline constexpr uint64_t kPopcnt = feature(x86::Feature::kPopcnt);
inline constexpr uint64_t kLzcnt = feature(x86::Feature::kAbm);
inline constexpr uint64_t kBmi1 = feature(x86::Feature::kBmi1);
inline constexpr uint64_t kLahf = feature(x86::Feature::kLahfLm);
inline constexpr uint64_t kClflush = feature(x86::Feature::kClfsh);
inline constexpr uint64_t kSyscallFeature = feature(x86::Feature::kSyscall);
}  // namespace attr

// Which RFLAGS status bits an instruction leaves architecturally undefined, given the state
// before it executes (e.g. OF after a shift by more than one). Differential tests ignore them;
// docs/cpu.md gives the policy for the values Cella produces.
using UndefinedFlagsFn = uint64_t (*)(const SoftCpu& before, const Insn& insn);

// Semantics instantiated per operand size (index log2(bytes)) and register/memory r/m.
struct Handlers {
  ExecFn fn[2][4] = {};  // [has_memory][size_log2]
};

struct FormSpec {
  const char* mnemonic;
  const char* opcode;
  const char* operands;
  uint64_t attributes;
  OperandList operand_list;
  Handlers handlers;
  UndefinedFlagsFn undefined_flags;

  x86::Feature feature() const {
    const uint64_t f = attributes >> attr::kFeatureShift;
    return f == 0 ? x86::Feature::kCount : static_cast<x86::Feature>(f - 1);
  }
  bool has(uint64_t attribute) const { return (attributes & attribute) != 0; }
};

// The size class of a form: d64/f64 forms follow the operand-size attribute (v); otherwise
// the first register or memory operand with a general-purpose size code decides (a port
// number, Ib or DX, does not: OUT Ib,eAX moves eAX), then the first immediate; forms without
// one (SSE, x87) use a single 32-bit instantiation.
constexpr OperandSize size_class(const OperandList& ops, uint64_t attributes) {
  if (attributes & (attr::kD64 | attr::kF64)) return OperandSize::kV;
  auto cls = [](OperandSize size) { return size == OperandSize::kZ ? OperandSize::kV : size; };
  for (size_t i = 0; i < ops.count; ++i) {
    const bool port_or_immediate =
        ops[i].kind == OperandKind::kI || ops[i].kind == OperandKind::kDx;
    if (is_gp_size(ops[i].size) && !port_or_immediate) return cls(ops[i].size);
  }
  for (size_t i = 0; i < ops.count; ++i) {
    if (is_gp_size(ops[i].size)) return cls(ops[i].size);
  }
  return OperandSize::kNone;
}

constexpr bool form_has_memory_variant(const OperandList& ops) {
  for (size_t i = 0; i < ops.count; ++i) {
    if (may_be_memory(ops[i].kind) || ops[i].kind == OperandKind::kO) return true;
  }
  return false;
}

constexpr bool form_has_register_variant(const OperandList& ops) {
  for (size_t i = 0; i < ops.count; ++i) {
    if (ops[i].kind == OperandKind::kM || ops[i].kind == OperandKind::kO) return false;
  }
  return true;
}

// Whether operand size (1 << log2) bytes is possible for the size class.
constexpr bool size_possible(OperandSize cls, int log2) {
  switch (cls) {
    case OperandSize::kB:
      return log2 == 0;
    case OperandSize::kW:
      return log2 == 1;
    case OperandSize::kD:
      return log2 == 2;
    case OperandSize::kQ:
      return log2 == 3;
    case OperandSize::kV:
      return log2 >= 1;
    case OperandSize::kY:
      return log2 >= 2;
    default:
      return log2 == 2;
  }
}

namespace detail {

template <class T>
struct UIntOfLog2;
template <>
struct UIntOfLog2<std::integral_constant<int, 0>> {
  using type = uint8_t;
};
template <>
struct UIntOfLog2<std::integral_constant<int, 1>> {
  using type = uint16_t;
};
template <>
struct UIntOfLog2<std::integral_constant<int, 2>> {
  using type = uint32_t;
};
template <>
struct UIntOfLog2<std::integral_constant<int, 3>> {
  using type = uint64_t;
};

template <class Semantics, OperandList kOps, uint64_t kAttributes, bool kMem, int kLog2>
constexpr ExecFn handler_if_possible() {
  constexpr OperandSize cls = size_class(kOps, kAttributes);
  if constexpr (!size_possible(cls, kLog2)) {
    return nullptr;
  } else if constexpr (kMem ? !form_has_memory_variant(kOps) : !form_has_register_variant(kOps)) {
    return nullptr;
  } else {
    using T = typename UIntOfLog2<std::integral_constant<int, kLog2>>::type;
    return &Semantics::template exec<T, kMem, kOps>;
  }
}

template <class Semantics, OperandList kOps, uint64_t kAttributes>
constexpr Handlers make_handlers() {
  Handlers h;
  h.fn[0][0] = handler_if_possible<Semantics, kOps, kAttributes, false, 0>();
  h.fn[0][1] = handler_if_possible<Semantics, kOps, kAttributes, false, 1>();
  h.fn[0][2] = handler_if_possible<Semantics, kOps, kAttributes, false, 2>();
  h.fn[0][3] = handler_if_possible<Semantics, kOps, kAttributes, false, 3>();
  h.fn[1][0] = handler_if_possible<Semantics, kOps, kAttributes, true, 0>();
  h.fn[1][1] = handler_if_possible<Semantics, kOps, kAttributes, true, 1>();
  h.fn[1][2] = handler_if_possible<Semantics, kOps, kAttributes, true, 2>();
  h.fn[1][3] = handler_if_possible<Semantics, kOps, kAttributes, true, 3>();
  return h;
}

template <class Semantics>
concept HasUndefinedFlagsFn = requires(const SoftCpu& c, const Insn& i) {
  {Semantics::undefined_flags(c, i)};
};
template <class Semantics>
concept HasUndefinedFlagsConstant = requires {
  Semantics::kUndefinedFlags;
};

template <class Semantics>
constexpr UndefinedFlagsFn undefined_flags_of() {
  if constexpr (HasUndefinedFlagsFn<Semantics>) {
    return &Semantics::undefined_flags;
  } else if constexpr (HasUndefinedFlagsConstant<Semantics>) {
    return [](const SoftCpu&, const Insn&) -> uint64_t { return Semantics::kUndefinedFlags; };
  } else {
    return [](const SoftCpu&, const Insn&) -> uint64_t { return 0; };
  }
}

}  // namespace detail

template <class Semantics, OperandList kOps, uint64_t kAttributes>
constexpr FormSpec make_form(const char* mnemonic, const char* opcode, const char* operands) {
  static_assert(kOps.valid, "operand string does not parse: see decoder/operands.h");
  return FormSpec{mnemonic,
                  opcode,
                  operands,
                  kAttributes,
                  kOps,
                  detail::make_handlers<Semantics, kOps, kAttributes>(),
                  detail::undefined_flags_of<Semantics>()};
}

// The table line. Semantics come last so that template arguments may contain commas.
#define FORM(mnemonic, opcode, operands, attributes, ...)                                       \
  ::cella::soft::make_form<__VA_ARGS__, ::cella::soft::parse_operands(operands), (attributes)>( \
      mnemonic, opcode, operands)

// Every group of forms (one per file in exec/) registers its table here.
std::span<const FormSpec> all_forms();

}  // namespace cella::soft
