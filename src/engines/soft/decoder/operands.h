// Operand notation of the instruction-form table: the codes of SDM Vol. 2D Appendix A.2
// ("Zv" and the fixed-register names are our additions, noted below). A form's operand string,
// e.g. "Ev,Gv" or "Vps,Wps", is parsed at compile time, and the parsed list is a template
// argument of the form's semantics, so operand access compiles to direct code.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace cella::soft {

// SDM Vol. 2D A.2.1: codes for addressing method.
enum class OperandKind : uint8_t {
  kNone,
  kE,     // ModRM r/m: general-purpose register or memory
  kG,     // ModRM reg: general-purpose register
  kM,     // ModRM r/m: memory only
  kR,     // ModRM r/m: general-purpose register only (mod = 11b)
  kI,     // immediate
  kJ,     // relative offset added to the next instruction's RIP
  kO,     // moffs: absolute address, no ModRM (MOV A0-A3)
  kV,     // ModRM reg: XMM register
  kW,     // ModRM r/m: XMM register or memory
  kU,     // ModRM r/m: XMM register only
  kH,     // VEX.vvvv: XMM register (VEX forms)
  kB,     // VEX.vvvv: general-purpose register (BMI, SDM A.2.1 "B")
  kP,     // ModRM reg: MMX register
  kQ,     // ModRM r/m: MMX register or memory
  kN,     // ModRM r/m: MMX register only
  kS,     // ModRM reg: segment register
  kC,     // ModRM reg: control register
  kD,     // ModRM reg: debug register
  kX,     // string source: memory at DS:rSI (segment overridable)
  kY,     // string destination: memory at ES:rDI
  kZ,     // ours: general-purpose register in the opcode's low 3 bits (+ REX.B), "+r" forms
  kAcc,   // ours: AL/AX/EAX/RAX by size ("AL", "rAX")
  kCl,    // ours: CL (shift counts)
  kDx,    // ours: DX (port I/O)
  kOne,   // ours: the constant 1 (shift by one)
  kSt0,   // ours: x87 ST(0)
  kSti,   // ours: x87 ST(i), i from ModRM r/m
  kXmm0,  // ours: implicit XMM0 (SSE4.1 BLENDVPS & co.)
};

// SDM Vol. 2D A.2.2: codes for operand type.
enum class OperandSize : uint8_t {
  kNone,
  kB,    // byte
  kW,    // word
  kD,    // doubleword
  kQ,    // quadword
  kV,    // word, doubleword or quadword by operand-size attribute
  kZ,    // word for 16-bit operand size, else doubleword
  kY,    // doubleword, or quadword with REX.W
  kDq,   // double quadword (128 bits)
  kX,    // 128 bits (VEX.L=0 forms)
  kPs,   // 128-bit packed single
  kPd,   // 128-bit packed double
  kSs,   // scalar single (32 bits)
  kSd,   // scalar double (64 bits)
  kPi,   // 64-bit MMX
  kMem,  // memory of a size the semantics define (e.g. "M" for LEA, FXSAVE)
};

struct OperandSpec {
  OperandKind kind = OperandKind::kNone;
  OperandSize size = OperandSize::kNone;
  constexpr bool operator==(const OperandSpec&) const = default;
};

struct OperandList {
  std::array<OperandSpec, 4> op{};
  uint8_t count = 0;
  bool valid = true;  // false: the string did not parse (a table error)
  constexpr const OperandSpec& operator[](size_t i) const { return op[i]; }
  constexpr bool operator==(const OperandList&) const = default;
};

namespace detail {

constexpr OperandKind kind_of_letter(char c) {
  switch (c) {
    case 'E':
      return OperandKind::kE;
    case 'G':
      return OperandKind::kG;
    case 'M':
      return OperandKind::kM;
    case 'R':
      return OperandKind::kR;
    case 'I':
      return OperandKind::kI;
    case 'J':
      return OperandKind::kJ;
    case 'O':
      return OperandKind::kO;
    case 'V':
      return OperandKind::kV;
    case 'W':
      return OperandKind::kW;
    case 'U':
      return OperandKind::kU;
    case 'H':
      return OperandKind::kH;
    case 'B':
      return OperandKind::kB;
    case 'P':
      return OperandKind::kP;
    case 'Q':
      return OperandKind::kQ;
    case 'N':
      return OperandKind::kN;
    case 'S':
      return OperandKind::kS;
    case 'C':
      return OperandKind::kC;
    case 'D':
      return OperandKind::kD;
    case 'X':
      return OperandKind::kX;
    case 'Y':
      return OperandKind::kY;
    case 'Z':
      return OperandKind::kZ;
    default:
      return OperandKind::kNone;
  }
}

constexpr bool parse_size(std::string_view s, OperandSize& out) {
  struct Entry {
    std::string_view code;
    OperandSize size;
  };
  constexpr Entry kSizes[] = {
      {"", OperandSize::kMem},  {"b", OperandSize::kB},   {"w", OperandSize::kW},
      {"d", OperandSize::kD},   {"q", OperandSize::kQ},   {"v", OperandSize::kV},
      {"z", OperandSize::kZ},   {"y", OperandSize::kY},   {"dq", OperandSize::kDq},
      {"x", OperandSize::kX},   {"ps", OperandSize::kPs}, {"pd", OperandSize::kPd},
      {"ss", OperandSize::kSs}, {"sd", OperandSize::kSd}, {"pi", OperandSize::kPi},
  };
  for (const Entry& entry : kSizes) {
    if (entry.code == s) {
      out = entry.size;
      return true;
    }
  }
  return false;
}

constexpr OperandSpec parse_one(std::string_view token, bool& ok) {
  struct Fixed {
    std::string_view name;
    OperandSpec spec;
  };
  constexpr Fixed kFixed[] = {
      {"AL", {OperandKind::kAcc, OperandSize::kB}},
      {"AX", {OperandKind::kAcc, OperandSize::kW}},
      {"eAX", {OperandKind::kAcc, OperandSize::kZ}},
      {"rAX", {OperandKind::kAcc, OperandSize::kV}},
      {"CL", {OperandKind::kCl, OperandSize::kB}},
      {"DX", {OperandKind::kDx, OperandSize::kW}},
      {"1", {OperandKind::kOne, OperandSize::kB}},
      {"ST0", {OperandKind::kSt0, OperandSize::kNone}},
      {"STi", {OperandKind::kSti, OperandSize::kNone}},
      {"XMM0", {OperandKind::kXmm0, OperandSize::kDq}},
  };
  for (const Fixed& fixed : kFixed) {
    if (fixed.name == token) return fixed.spec;
  }
  if (token.empty()) {
    ok = false;
    return {};
  }
  OperandSpec spec;
  spec.kind = kind_of_letter(token[0]);
  if (spec.kind == OperandKind::kNone || !parse_size(token.substr(1), spec.size)) ok = false;
  return spec;
}

}  // namespace detail

// Parses "Ev,Gv" into an OperandList. An empty string is an instruction without operands.
constexpr OperandList parse_operands(std::string_view text) {
  OperandList list;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view token = text.substr(0, comma);
    if (list.count == list.op.size()) {
      list.valid = false;
      break;
    }
    list.op[list.count++] = detail::parse_one(token, list.valid);
    if (comma == std::string_view::npos) break;
    text = text.substr(comma + 1);
  }
  return list;
}

// ModRM r/m may name memory.
constexpr bool may_be_memory(OperandKind kind) {
  return kind == OperandKind::kE || kind == OperandKind::kM || kind == OperandKind::kW ||
         kind == OperandKind::kQ;
}
// ModRM r/m may name a register.
constexpr bool may_be_register(OperandKind kind) {
  return kind == OperandKind::kE || kind == OperandKind::kR || kind == OperandKind::kW ||
         kind == OperandKind::kU || kind == OperandKind::kQ || kind == OperandKind::kN ||
         kind == OperandKind::kSti;
}
constexpr bool uses_modrm(OperandKind kind) {
  switch (kind) {
    case OperandKind::kE:
    case OperandKind::kG:
    case OperandKind::kM:
    case OperandKind::kR:
    case OperandKind::kV:
    case OperandKind::kW:
    case OperandKind::kU:
    case OperandKind::kP:
    case OperandKind::kQ:
    case OperandKind::kN:
    case OperandKind::kS:
    case OperandKind::kC:
    case OperandKind::kD:
    case OperandKind::kSti:
      return true;
    default:
      return false;
  }
}
// A general-purpose operand size code (decides the operand-size template argument).
constexpr bool is_gp_size(OperandSize size) {
  return size == OperandSize::kB || size == OperandSize::kW || size == OperandSize::kD ||
         size == OperandSize::kQ || size == OperandSize::kV || size == OperandSize::kZ ||
         size == OperandSize::kY;
}
// Bytes of the fixed general-purpose size codes b, w, d, q; 0 for every other code.
constexpr int fixed_size_bytes(OperandSize size) {
  switch (size) {
    case OperandSize::kB:
      return 1;
    case OperandSize::kW:
      return 2;
    case OperandSize::kD:
      return 4;
    case OperandSize::kQ:
      return 8;
    default:
      return 0;
  }
}
constexpr bool is_gp_register_kind(OperandKind kind) {
  return kind == OperandKind::kE || kind == OperandKind::kG || kind == OperandKind::kR ||
         kind == OperandKind::kZ || kind == OperandKind::kAcc || kind == OperandKind::kB;
}

}  // namespace cella::soft
