// Encodings of the SIMD forms of the table with chosen or random operands (simd_harness.h).
#include "tests/unit/soft/simd_harness.h"

namespace cella::testing {

namespace {

using soft::Decoder;
using soft::Encoding;
using soft::MandatoryPrefix;
using soft::OpcodeMap;
using soft::OperandKind;

constexpr int kRsi = 6;

// General-purpose registers an instruction may name: not RSP, RSI, RDI (the region pointers) or
// R15 (the native runner's).
constexpr unsigned kGprChoices[] = {0, 1, 2, 3, 5, 8, 9, 10, 11, 12, 13, 14};

bool is_reg_field(OperandKind k) {
  return k == OperandKind::kV || k == OperandKind::kG || k == OperandKind::kP;
}
bool is_rm_field(OperandKind k) {
  return k == OperandKind::kW || k == OperandKind::kU || k == OperandKind::kE ||
         k == OperandKind::kR || k == OperandKind::kQ || k == OperandKind::kN ||
         k == OperandKind::kM;
}
bool is_gpr(OperandKind k) {
  return k == OperandKind::kG || k == OperandKind::kE || k == OperandKind::kR;
}
bool is_mmx(OperandKind k) {
  return k == OperandKind::kP || k == OperandKind::kQ || k == OperandKind::kN;
}

unsigned pick_register(OperandKind k, std::mt19937_64& rng) {
  if (is_gpr(k)) return kGprChoices[rng() % std::size(kGprChoices)];
  if (is_mmx(k)) return rng() % 8;
  return rng() % 16;
}

}  // namespace

std::vector<uint8_t> encode_form(uint16_t index, const OperandChoice& c) {
  const Decoder& decoder = Decoder::instance();
  const Encoding& e = decoder.encoding(index);
  const soft::OperandList& ops = decoder.form(index).operand_list;
  std::vector<uint8_t> bytes;
  switch (e.prefix) {
    case MandatoryPrefix::k66:
      bytes.push_back(0x66);
      break;
    case MandatoryPrefix::kF3:
      bytes.push_back(0xf3);
      break;
    case MandatoryPrefix::kF2:
      bytes.push_back(0xf2);
      break;
    default:
      break;
  }
  bool reg_extends = false, rm_extends = false;
  for (size_t i = 0; i < ops.count; ++i) {
    if (is_reg_field(ops[i].kind) && !is_mmx(ops[i].kind)) reg_extends = true;
    if (is_rm_field(ops[i].kind) && !is_mmx(ops[i].kind)) rm_extends = true;
  }
  uint8_t rex = 0x40;
  if (c.rex_w || e.rex_w == 1) rex |= 8;
  if (reg_extends && e.modrm_reg < 0 && (c.reg & 8)) rex |= 4;
  if (rm_extends && !c.memory && (c.rm & 8)) rex |= 1;
  if (rex != 0x40) bytes.push_back(rex);
  bytes.push_back(0x0f);
  if (e.map == OpcodeMap::k0F38) bytes.push_back(0x38);
  if (e.map == OpcodeMap::k0F3A) bytes.push_back(0x3a);
  bytes.push_back(e.opcode);
  if (e.has_modrm) {
    const unsigned reg = e.modrm_reg >= 0 ? static_cast<unsigned>(e.modrm_reg) : (c.reg & 7);
    if (c.memory) {
      bytes.push_back(static_cast<uint8_t>(0x40 | (reg << 3) | kRsi));
      bytes.push_back(static_cast<uint8_t>(c.disp));
    } else {
      const unsigned rm = e.modrm_rm >= 0 ? static_cast<unsigned>(e.modrm_rm) : (c.rm & 7);
      bytes.push_back(static_cast<uint8_t>(0xc0 | (reg << 3) | rm));
    }
  }
  for (size_t i = 0; i < ops.count; ++i) {
    if (ops[i].kind == OperandKind::kI) bytes.push_back(c.imm);
  }
  return bytes;
}

std::optional<OperandChoice> random_operands(uint16_t index, bool memory, bool misaligned,
                                             std::mt19937_64& rng) {
  const Decoder& decoder = Decoder::instance();
  const soft::FormSpec& form = decoder.form(index);
  const Encoding& e = decoder.encoding(index);
  const soft::OperandList& ops = form.operand_list;
  const bool has_memory = soft::form_has_memory_variant(ops) && e.modrm_mod != 3;
  const bool has_register = soft::form_has_register_variant(ops) && e.modrm_mod != 0;
  if (memory ? !has_memory : !has_register) return std::nullopt;
  OperandChoice c;
  c.memory = memory;
  for (size_t i = 0; i < ops.count; ++i) {
    if (is_reg_field(ops[i].kind)) c.reg = pick_register(ops[i].kind, rng);
    if (is_rm_field(ops[i].kind) && !memory) c.rm = pick_register(ops[i].kind, rng);
  }
  // A 16-byte aligned displacement within the region, or any other one.
  c.disp = static_cast<int8_t>(16 * static_cast<int>(rng() % 8) - 48);
  if (misaligned) c.disp = static_cast<int8_t>(c.disp + 1 + static_cast<int>(rng() % 15));
  c.imm = static_cast<uint8_t>(rng());
  if (e.rex_w < 0) c.rex_w = rng() % 4 == 0;
  // REX.W may select another form (MOVD/MOVQ): keep it only if the bytes still decode to this one.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const std::vector<uint8_t> bytes = encode_form(index, c);
    const soft::DecodeResult r = decoder.decode(bytes.data(), bytes.size());
    if (r.kind == soft::DecodeResult::Kind::kOk && r.insn.form == index) return c;
    c.rex_w = false;
  }
  return std::nullopt;
}

}  // namespace cella::testing
