// Decoding one instruction: prefixes, opcode, form selection, ModRM/SIB, immediates.
#include "engines/soft/decoder/decoder.h"

#include <array>
#include <cstring>

#include "cpu/x86/registers.h"

namespace cella::soft {

namespace {

// SDM Vol. 2A 2.1.1: legacy prefix groups.
enum class LegacyPrefix : uint8_t { kNone, kLock, kRepne, kRep, kOpsize, kAddrsize, kSegment };

struct PrefixByte {
  LegacyPrefix kind = LegacyPrefix::kNone;
  uint8_t segment = 0;
};

constexpr std::array<PrefixByte, 256> make_prefix_table() {
  std::array<PrefixByte, 256> t{};
  t[0xF0] = {LegacyPrefix::kLock, 0};
  t[0xF2] = {LegacyPrefix::kRepne, 0};
  t[0xF3] = {LegacyPrefix::kRep, 0};
  t[0x66] = {LegacyPrefix::kOpsize, 0};
  t[0x67] = {LegacyPrefix::kAddrsize, 0};
  t[0x26] = {LegacyPrefix::kSegment, static_cast<uint8_t>(x86::Segment::kEs)};
  t[0x2E] = {LegacyPrefix::kSegment, static_cast<uint8_t>(x86::Segment::kCs)};
  t[0x36] = {LegacyPrefix::kSegment, static_cast<uint8_t>(x86::Segment::kSs)};
  t[0x3E] = {LegacyPrefix::kSegment, static_cast<uint8_t>(x86::Segment::kDs)};
  t[0x64] = {LegacyPrefix::kSegment, static_cast<uint8_t>(x86::Segment::kFs)};
  t[0x65] = {LegacyPrefix::kSegment, static_cast<uint8_t>(x86::Segment::kGs)};
  return t;
}
constexpr auto kPrefixTable = make_prefix_table();

// Byte-wise reader that reports when the instruction runs past the available bytes or
// the 15-byte limit.
class Reader {
 public:
  Reader(const uint8_t* bytes, size_t available) : bytes_(bytes), available_(available) {}
  bool has(size_t n) const { return pos_ + n <= available_ && pos_ + n <= kMaxInstructionLength; }
  bool too_long(size_t n) const { return pos_ + n > kMaxInstructionLength; }
  uint8_t peek() const { return bytes_[pos_]; }
  uint8_t byte() { return bytes_[pos_++]; }
  int64_t signed_value(size_t n) {
    uint64_t v = 0;
    std::memcpy(&v, bytes_ + pos_, n);
    pos_ += n;
    const unsigned shift = static_cast<unsigned>(64 - 8 * n);
    return n == 8 ? static_cast<int64_t>(v) : static_cast<int64_t>(v << shift) >> shift;
  }
  size_t pos() const { return pos_; }

 private:
  const uint8_t* bytes_;
  size_t available_;
  size_t pos_ = 0;
};

// General-purpose register operand coding (insn.h): byte offset into SoftCpu::gpr. Without a
// REX prefix, byte registers 4-7 are AH, CH, DH, BH (SDM Vol. 2A 2.2.1.2, Table 2-4 note).
uint8_t gp_code(unsigned reg, bool byte, bool rex) {
  if (byte && !rex && reg >= 4 && reg < 8) return static_cast<uint8_t>((reg - 4) * 8 + 1);
  return static_cast<uint8_t>(reg * 8);
}

int size_log2_for(OperandSize cls, uint64_t attributes, bool rex_w, bool opsize_prefix) {
  switch (cls) {
    case OperandSize::kB:
      return 0;
    case OperandSize::kW:
      return 1;
    case OperandSize::kD:
      return 2;
    case OperandSize::kQ:
      return 3;
    case OperandSize::kY:
      return rex_w ? 3 : 2;
    case OperandSize::kV:
      // SDM Vol. 2A 2.2.1.2 and Vol. 2D A.2.5: REX.W wins over 66; f64 forces 64 bits;
      // d64 defaults to 64 bits with 66 selecting 16. Near branches ignore 66 (Intel).
      if (attributes & attr::kF64) return 3;
      if (rex_w) return 3;
      if (opsize_prefix) return 1;
      return (attributes & attr::kD64) ? 3 : 2;
    default:
      return 2;
  }
}

size_t immediate_size(OperandSpec spec, int size_log2, bool addr32) {
  const size_t opsize = size_t{1} << size_log2;
  if (spec.kind == OperandKind::kO) return addr32 ? 4 : 8;  // moffs: address size
  if (spec.kind == OperandKind::kJ) return spec.size == OperandSize::kB ? 1 : 4;
  if (const int bytes = fixed_size_bytes(spec.size)) return static_cast<size_t>(bytes);
  switch (spec.size) {
    case OperandSize::kZ:
      return opsize == 2 ? 2 : 4;
    case OperandSize::kV:
      return opsize;
    default:
      return 0;
  }
}

bool prefix_matches(MandatoryPrefix want, MandatoryPrefix have) {
  return want == MandatoryPrefix::kAny || want == have;
}

}  // namespace

DecodeResult Decoder::decode(const uint8_t* bytes, size_t available) const {
  using Kind = DecodeResult::Kind;
  DecodeResult result;
  Insn& insn = result.insn;
  insn.form = kInvalidForm;
  insn.segment = static_cast<uint8_t>(x86::Segment::kDs);
  Reader in(bytes, available);
  auto need = [&](size_t n) -> Kind {
    return in.too_long(n) ? Kind::kTooLong : Kind::kNeedMoreBytes;
  };

  // 1. Legacy prefixes and REX (SDM Vol. 2A 2.1, 2.2.1). A REX prefix counts only
  // immediately before the opcode.
  bool lock = false, opsize66 = false;
  MandatoryPrefix last_rep = MandatoryPrefix::kNone;  // the last of F2/F3 decides
  uint8_t rex = 0;
  for (;;) {
    if (!in.has(1)) return result.kind = need(1), result;
    const uint8_t b = in.peek();
    const PrefixByte& p = kPrefixTable[b];
    if (p.kind != LegacyPrefix::kNone) {
      in.byte();
      rex = 0;
      switch (p.kind) {
        case LegacyPrefix::kLock:
          lock = true;
          break;
        case LegacyPrefix::kRepne:
          last_rep = MandatoryPrefix::kF2;
          break;
        case LegacyPrefix::kRep:
          last_rep = MandatoryPrefix::kF3;
          break;
        case LegacyPrefix::kOpsize:
          opsize66 = true;
          break;
        case LegacyPrefix::kAddrsize:
          insn.prefixes |= prefix::kAddr32;
          break;
        case LegacyPrefix::kSegment:
          // SDM Vol. 1 3.3.7.1: in 64-bit mode only FS and GS overrides take effect.
          if (p.segment == static_cast<uint8_t>(x86::Segment::kFs) ||
              p.segment == static_cast<uint8_t>(x86::Segment::kGs)) {
            insn.segment = p.segment;
          }
          break;
        default:
          break;
      }
      continue;
    }
    if ((b & 0xF0) == 0x40) {
      rex = in.byte();
      continue;
    }
    break;
  }

  // 2. Opcode map, or VEX (SDM Vol. 2A 2.3.5).
  OpcodeMap map = OpcodeMap::kPrimary;
  bool vex = false, vex_w = false;
  int vex_l = 0;
  unsigned vex_r = 0, vex_x = 0, vex_b = 0, vvvv = 0;
  MandatoryPrefix prefix_class = last_rep != MandatoryPrefix::kNone
                                     ? last_rep
                                     : (opsize66 ? MandatoryPrefix::k66 : MandatoryPrefix::kNone);
  if (!in.has(1)) return result.kind = need(1), result;
  uint8_t opcode = in.byte();
  if (opcode == 0x0F) {
    if (!in.has(1)) return result.kind = need(1), result;
    opcode = in.byte();
    map = OpcodeMap::k0F;
    if (opcode == 0x38 || opcode == 0x3A) {
      map = opcode == 0x38 ? OpcodeMap::k0F38 : OpcodeMap::k0F3A;
      if (!in.has(1)) return result.kind = need(1), result;
      opcode = in.byte();
    }
  } else if (opcode == 0xC4 || opcode == 0xC5) {
    // SDM Vol. 2A 2.3.2: VEX after 66, F2, F3, LOCK or REX is #UD.
    if (lock || opsize66 || last_rep != MandatoryPrefix::kNone || rex != 0) {
      return result.kind = Kind::kInvalid, result;
    }
    vex = true;
    unsigned mmmmm = 1, pp = 0;
    if (opcode == 0xC5) {
      if (!in.has(1)) return result.kind = need(1), result;
      const uint8_t b1 = in.byte();
      vex_r = ((b1 >> 7) & 1) ^ 1;
      vvvv = (~b1 >> 3) & 0xF;
      vex_l = (b1 >> 2) & 1;
      pp = b1 & 3;
    } else {
      if (!in.has(2)) return result.kind = need(2), result;
      const uint8_t b1 = in.byte(), b2 = in.byte();
      vex_r = ((b1 >> 7) & 1) ^ 1;
      vex_x = ((b1 >> 6) & 1) ^ 1;
      vex_b = ((b1 >> 5) & 1) ^ 1;
      mmmmm = b1 & 0x1F;
      vex_w = (b2 >> 7) & 1;
      vvvv = (~b2 >> 3) & 0xF;
      vex_l = (b2 >> 2) & 1;
      pp = b2 & 3;
    }
    static constexpr OpcodeMap kVexMaps[4] = {OpcodeMap::kCount, OpcodeMap::kVex0F,
                                              OpcodeMap::kVex0F38, OpcodeMap::kVex0F3A};
    if (mmmmm == 0 || mmmmm > 3) return result.kind = Kind::kInvalid, result;
    map = kVexMaps[mmmmm];
    static constexpr MandatoryPrefix kPp[4] = {MandatoryPrefix::kNone, MandatoryPrefix::k66,
                                               MandatoryPrefix::kF3, MandatoryPrefix::kF2};
    prefix_class = kPp[pp];
    if (!in.has(1)) return result.kind = need(1), result;
    opcode = in.byte();
  }

  const auto& candidates = candidates_[static_cast<int>(map)][opcode];
  if (candidates.empty()) return result.kind = Kind::kInvalid, result;

  // 3. ModRM, then the most specific form whose constraints match.
  const bool has_modrm = encodings_[candidates.front()].has_modrm;
  uint8_t modrm = 0;
  if (has_modrm) {
    if (!in.has(1)) return result.kind = need(1), result;
    modrm = in.byte();
  }
  const unsigned mod = modrm >> 6, modrm_reg = (modrm >> 3) & 7, modrm_rm = modrm & 7;
  const bool rex_w = vex ? vex_w : (rex & 8) != 0;
  uint16_t chosen = kInvalidForm;
  for (uint16_t candidate : candidates) {
    const Encoding& e = encodings_[candidate];
    if (!prefix_matches(e.prefix, prefix_class)) continue;
    if (e.rex_w >= 0 && e.rex_w != static_cast<int>(rex_w)) continue;
    if (vex && e.vex_l >= 0 && e.vex_l != vex_l) continue;
    if (e.modrm_mod == 3 && mod != 3) continue;
    if (e.modrm_mod == 0 && mod == 3) continue;
    if (e.modrm_reg >= 0 && static_cast<unsigned>(e.modrm_reg) != modrm_reg) continue;
    if (e.modrm_rm >= 0 && static_cast<unsigned>(e.modrm_rm) != modrm_rm) continue;
    chosen = candidate;
    break;
  }
  if (chosen == kInvalidForm) return result.kind = Kind::kInvalid, result;
  const FormSpec& form = forms_[chosen];
  const Encoding& encoding = encodings_[chosen];
  insn.form = chosen;
  insn.modrm = modrm;

  const unsigned rex_r = vex ? vex_r : (rex >> 2) & 1;
  const unsigned rex_x = vex ? vex_x : (rex >> 1) & 1;
  const unsigned rex_b = vex ? vex_b : rex & 1;
  if (rex != 0) insn.prefixes |= prefix::kRex;
  if (rex_w) insn.prefixes |= prefix::kRexW;
  if (opsize66) insn.prefixes |= prefix::kOpsize;
  if (lock) insn.prefixes |= prefix::kLock;
  if (last_rep == MandatoryPrefix::kF3) insn.prefixes |= prefix::kRep;
  if (last_rep == MandatoryPrefix::kF2) insn.prefixes |= prefix::kRepne;
  const bool addr32 = (insn.prefixes & prefix::kAddr32) != 0;

  // 4. Memory operand: SDM Vol. 2A 2.2.1.3 (SIB), 2.2.1.6 (RIP-relative), Tables 2-2, 2-3.
  if (has_modrm && mod != 3) {
    insn.has_memory = true;
    unsigned base = modrm_rm | (rex_b << 3);
    size_t disp_size = mod == 1 ? 1 : (mod == 2 ? 4 : 0);
    if (modrm_rm == 4) {
      if (!in.has(1)) return result.kind = need(1), result;
      const uint8_t sib = in.byte();
      const unsigned index = ((sib >> 3) & 7) | (rex_x << 3);
      insn.scale = sib >> 6;
      insn.index = index == 4 ? kNoRegister : static_cast<uint8_t>(index);
      base = (sib & 7) | (rex_b << 3);
      if ((sib & 7) == 5 && mod == 0) {
        base = kNoRegister;
        disp_size = 4;
      }
      insn.base = static_cast<uint8_t>(base);
    } else if (modrm_rm == 5 && mod == 0) {
      insn.base = kRipRelative;
      disp_size = 4;
    } else {
      insn.base = static_cast<uint8_t>(base);
    }
    if (!in.has(disp_size)) return result.kind = need(disp_size), result;
    if (disp_size != 0) insn.disp = static_cast<int32_t>(in.signed_value(disp_size));
    // SDM Vol. 1 3.7.4.1: RSP or RBP as base means SS, unless overridden (FS/GS in 64-bit
    // mode). In 64-bit mode this only decides #SS versus #GP for non-canonical addresses.
    const bool overridden = insn.segment != static_cast<uint8_t>(x86::Segment::kDs);
    if (!overridden && (insn.base == 4 || insn.base == 5)) {
      insn.segment = static_cast<uint8_t>(x86::Segment::kSs);
    }
  }

  // 5. Operand size and register operands.
  const OperandList& ops = form.operand_list;
  const bool opsize_prefix = opsize66 && encoding.prefix != MandatoryPrefix::k66 && !vex;
  const int size_log2 =
      size_log2_for(size_class(ops, form.attributes), form.attributes, rex_w, opsize_prefix);
  insn.opsize = static_cast<uint8_t>(1u << size_log2);
  const bool any_rex = rex != 0;
  const unsigned opcode_reg = (opcode & 7) | (rex_b << 3);
  for (size_t i = 0; i < ops.count; ++i) {
    const OperandSpec spec = ops[i];
    const bool byte = spec.size == OperandSize::kB;
    switch (spec.kind) {
      case OperandKind::kG:
        insn.reg = gp_code(modrm_reg | (rex_r << 3), byte, any_rex);
        break;
      case OperandKind::kE:
      case OperandKind::kR:
        insn.rm = gp_code(modrm_rm | (rex_b << 3), byte, any_rex);
        break;
      case OperandKind::kZ:
        insn.rm = gp_code(opcode_reg, byte, any_rex);
        break;
      case OperandKind::kB:
        insn.vvvv = gp_code(vvvv, false, true);
        break;
      case OperandKind::kV:
        insn.reg = static_cast<uint8_t>(modrm_reg | (rex_r << 3));
        break;
      case OperandKind::kC: {
        // SDM Vol. 2B MOV (control registers): CR0, CR2-CR4 and CR8 exist; the others #UD.
        const unsigned cr = modrm_reg | (rex_r << 3);
        if (cr == 1 || (cr >= 5 && cr != 8)) return result.kind = Kind::kInvalid, result;
        insn.reg = static_cast<uint8_t>(cr);
        break;
      }
      case OperandKind::kD:
        // SDM Vol. 2B MOV (debug registers): DR0-DR7; REX.R names none (#UD).
        if (rex_r) return result.kind = Kind::kInvalid, result;
        insn.reg = static_cast<uint8_t>(modrm_reg);
        break;
      case OperandKind::kW:
      case OperandKind::kU:
        insn.rm = static_cast<uint8_t>(modrm_rm | (rex_b << 3));
        break;
      case OperandKind::kH:
        insn.vvvv = static_cast<uint8_t>(vvvv);
        break;
      case OperandKind::kP:
        insn.reg = static_cast<uint8_t>(modrm_reg);
        break;
      case OperandKind::kQ:
      case OperandKind::kN:
      case OperandKind::kSti:
        insn.rm = static_cast<uint8_t>(modrm_rm);
        break;
      case OperandKind::kS:
        // SDM Vol. 2B MOV: ES-GS exist; CS cannot be a destination (#UD).
        if (modrm_reg >= x86::kSegmentCount ||
            (i == 0 && modrm_reg == static_cast<unsigned>(x86::Segment::kCs))) {
          return result.kind = Kind::kInvalid, result;
        }
        insn.reg = static_cast<uint8_t>(modrm_reg);
        break;
      default:
        break;
    }
  }
  // VEX.vvvv must be 1111b when the form has no vvvv operand (SDM Vol. 2A 2.3.6).
  if (vex) {
    bool uses_vvvv = false;
    for (size_t i = 0; i < ops.count; ++i) {
      uses_vvvv |= ops[i].kind == OperandKind::kB || ops[i].kind == OperandKind::kH;
    }
    if (!uses_vvvv && vvvv != 0) return result.kind = Kind::kInvalid, result;
  }

  // 6. Immediates, in operand order: the first in imm, a second (ENTER, EXTRQ) in imm2.
  bool first_immediate = true;
  for (size_t i = 0; i < ops.count; ++i) {
    const OperandSpec spec = ops[i];
    if (spec.kind != OperandKind::kI && spec.kind != OperandKind::kJ &&
        spec.kind != OperandKind::kO) {
      continue;
    }
    const size_t n = immediate_size(spec, size_log2, addr32);
    if (!in.has(n)) return result.kind = need(n), result;
    if (spec.kind == OperandKind::kO) {
      insn.has_memory = true;
      insn.imm = static_cast<int64_t>(n == 8 ? static_cast<uint64_t>(in.signed_value(8))
                                             : static_cast<uint32_t>(in.signed_value(4)));
    } else if (first_immediate) {
      insn.imm = in.signed_value(n);
      first_immediate = false;
    } else {
      insn.imm2 = static_cast<uint8_t>(in.signed_value(n));
    }
  }

  // 7. Prefix validity: LOCK only on lockable forms with a memory destination
  // (SDM Vol. 2A 2.1.1, LOCK: "#UD if the LOCK prefix is used ... otherwise").
  if (lock && !(form.has(attr::kLock) && insn.has_memory)) {
    return result.kind = Kind::kInvalid, result;
  }

  insn.exec = form.handlers.fn[insn.has_memory ? 1 : 0][size_log2];
  if (insn.exec == nullptr) return result.kind = Kind::kInvalid, result;
  insn.length = static_cast<uint8_t>(in.pos());
  result.kind = Kind::kOk;
  return result;
}

}  // namespace cella::soft
