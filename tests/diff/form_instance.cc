#include "tests/diff/form_instance.h"

#include <fmt/format.h>

#include <cstring>
#include <string_view>

#include "engines/soft/decoder/decoder.h"
#include "tests/diff/layout.h"

namespace cella::diff {

namespace {

using soft::Decoder;
using soft::DecodeResult;
using soft::Encoding;
using soft::FormSpec;
using soft::MandatoryPrefix;
using soft::OpcodeMap;
using soft::OperandKind;
using soft::OperandList;
using soft::OperandSize;
namespace attr = soft::attr;

constexpr int kRsp = 4, kRbp = 5, kRsi = 6, kRdi = 7, kRbx = 3, kRcx = 1;

// Registers a form uses implicitly as pointers (SDM: ENTER/LEAVE use RBP, XLAT RBX,
// MASKMOVDQU/MASKMOVQ write at DS:RDI).
struct ImplicitPointer {
  std::string_view mnemonic;
  int reg;
};
constexpr ImplicitPointer kImplicitPointers[] = {
    {"ENTER", kRbp}, {"LEAVE", kRbp}, {"XLAT", kRbx}, {"MASKMOVDQU", kRdi}, {"MASKMOVQ", kRdi},
};

// Forms whose register bit offset addresses memory beyond the operand (SDM Vol. 2A BT):
// keep the offset small so the access stays in the data area.
constexpr std::string_view kBitOffsetMnemonics[] = {"BT", "BTS", "BTR", "BTC"};

class Builder {
 public:
  Builder(const FormSpec& form, const Encoding& e, std::mt19937_64& rng)
      : form_(form), e_(e), ops_(form.operand_list), rng_(rng) {}

  std::optional<FormInstance> build();

 private:
  uint64_t random() { return rng_(); }
  bool chance(int one_in) { return random() % static_cast<uint64_t>(one_in) == 0; }
  int choose_size_log2(bool& needs_w, bool& opsize66);
  uint64_t random_immediate(size_t size);
  void memory_operand(uint8_t& modrm, std::vector<uint8_t>& tail, bool& rex_b, bool& rex_x,
                      bool addr32);
  bool vex() const { return e_.map >= OpcodeMap::kVex0F; }
  bool operand_kind(OperandKind kind) const {
    for (size_t i = 0; i < ops_.count; ++i) {
      if (ops_[i].kind == kind) return true;
    }
    return false;
  }

  const FormSpec& form_;
  const Encoding& e_;
  const OperandList& ops_;
  std::mt19937_64& rng_;
  FormInstance out_;
  // Memory operand bookkeeping for fix-ups once the length is known.
  bool rip_relative_ = false;
  size_t disp_offset_ = 0;
  uint64_t target_ = 0;
};

int Builder::choose_size_log2(bool& needs_w, bool& opsize66) {
  const OperandSize cls = soft::size_class(ops_, form_.attributes);
  std::vector<int> options;
  switch (cls) {
    case OperandSize::kB:
      options = {0};
      break;
    case OperandSize::kW:
      options = {1};
      break;
    case OperandSize::kD:
      options = {2};
      break;
    case OperandSize::kQ:
      options = {3};
      break;
    case OperandSize::kY:
      options = {2, 3};
      break;
    case OperandSize::kV:
      if (form_.has(attr::kF64))
        options = {3};
      else if (form_.has(attr::kD64))
        options = {1, 3};
      else
        options = {1, 2, 3};
      break;
    default:
      options = {2};
      break;
  }
  const bool prefix_blocks_66 =
      e_.prefix == MandatoryPrefix::k66 || e_.prefix == MandatoryPrefix::kNone || vex();
  std::vector<int> allowed;
  for (int o : options) {
    if (o == 1 && cls == OperandSize::kV && prefix_blocks_66) continue;
    if (o == 3 && e_.rex_w == 0 && (cls == OperandSize::kV || cls == OperandSize::kY) &&
        !form_.has(attr::kD64) && !form_.has(attr::kF64)) {
      continue;
    }
    if (o != 3 && e_.rex_w == 1 && (cls == OperandSize::kV || cls == OperandSize::kY)) continue;
    allowed.push_back(o);
  }
  if (allowed.empty()) return -1;
  const int log2 = allowed[random() % allowed.size()];
  needs_w =
      e_.rex_w == 1 ||
      (log2 == 3 && (cls == OperandSize::kY ||
                     (cls == OperandSize::kV && !form_.has(attr::kD64) && !form_.has(attr::kF64))));
  opsize66 = log2 == 1 && cls == OperandSize::kV;
  return log2;
}

uint64_t Builder::random_immediate(size_t size) {
  static constexpr uint64_t kSpecial[] = {
      0,      1,      2,          0x7f,       0x80,       0xff,         0x7fff,
      0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, ~uint64_t{0}, 0x8000000000000000,
      31,     32,     63,         64};
  const uint64_t value = chance(3) ? kSpecial[random() % std::size(kSpecial)] : random();
  return size >= 8 ? value : value & ((uint64_t{1} << (8 * size)) - 1);
}

// A memory operand whose effective address lands at a chosen target in the data area
// (sometimes across a page boundary, sometimes just past the mapped region, to test faults).
void Builder::memory_operand(uint8_t& modrm, std::vector<uint8_t>& tail, bool& rex_b, bool& rex_x,
                             bool addr32) {
  out_.uses_memory = true;
  uint64_t target;
  const uint64_t pick = random() % 32;
  if (pick == 0) {
    target = kRegionBase + kRegionSize - 8 + random() % 16;  // crosses into unmapped space
  } else if (pick < 4) {
    target = kDataAddress + 0x1000 * (1 + random() % (kDataSize / 0x1000 - 1)) - 1 -
             random() % 16;  // page crossing
  } else {
    target = kDataAddress + 0x400 + random() % (kDataSize - 0x800);
    if (chance(2)) target &= ~uint64_t{15};
  }
  target_ = target;
  const unsigned mod_choice = static_cast<unsigned>(random() % 3);  // disp: none, 8, 32
  const int form_kind = static_cast<int>(random() % 8);
  if (form_kind == 0 && !addr32) {  // RIP-relative: mod 00, rm 101, disp32 patched later
    modrm = static_cast<uint8_t>(modrm & 0x38) | 0x05;
    rip_relative_ = true;
    disp_offset_ = tail.size();
    tail.insert(tail.end(), 4, 0);
    return;
  }
  if (form_kind == 1) {  // absolute disp32: SIB with no base and no index
    modrm = static_cast<uint8_t>(modrm & 0x38) | 0x04;
    tail.push_back(static_cast<uint8_t>((random() % 4) << 6 | 4 << 3 | 5));
    const uint32_t disp = static_cast<uint32_t>(target);
    for (int i = 0; i < 4; ++i) tail.push_back(static_cast<uint8_t>(disp >> (8 * i)));
    return;
  }
  const bool use_sib = form_kind >= 5;
  int base = static_cast<int>(random() % 16);
  int index = -1;
  unsigned scale = 0;
  if (use_sib) {
    scale = static_cast<unsigned>(random() % 4);
    index = static_cast<int>(random() % 16);
    if (index == kRsp) index = -1;  // SIB index 100 without REX.X means none
  } else if ((base & 7) == kRsp) {
    base ^= 1;  // rm=100 would mean SIB
  }
  unsigned mod = mod_choice == 0 ? 0 : (mod_choice == 1 ? 1 : 2);
  if ((base & 7) == kRbp && mod == 0) mod = 1;  // mod 00 with base 101 means no base
  int32_t disp = mod == 0 ? 0
                          : (mod == 1 ? static_cast<int8_t>(random())
                                      : static_cast<int32_t>(random() % 0x2000) - 0x1000);
  uint64_t index_value = index >= 0 ? random() % 64 : 0;
  uint64_t base_value;
  if (index == base) {  // the same register as base and index: solve v*(1+2^s) + disp = target
    const uint64_t factor = 1 + (uint64_t{1} << scale);
    index_value = (target - static_cast<uint64_t>(static_cast<int64_t>(disp))) / factor;
    base_value = index_value;
    target_ = index_value * factor + static_cast<uint64_t>(static_cast<int64_t>(disp));
  } else {
    base_value =
        target - (index_value << scale) - static_cast<uint64_t>(static_cast<int64_t>(disp));
  }
  if (addr32 && chance(2)) base_value |= random() << 32;  // truncated away by the 67 prefix
  out_.registers.push_back({base, base_value});
  if (index >= 0 && index != base) out_.registers.push_back({index, index_value});
  rex_b = base >= 8;
  modrm = static_cast<uint8_t>(mod << 6 | (modrm & 0x38) | (use_sib ? 4 : (base & 7)));
  if (use_sib) {
    const int index_bits = index >= 0 ? index : 4;
    rex_x = index_bits >= 8;
    tail.push_back(static_cast<uint8_t>(scale << 6 | (index_bits & 7) << 3 | (base & 7)));
  }
  if (mod == 1) tail.push_back(static_cast<uint8_t>(disp));
  if (mod == 2) {
    for (int i = 0; i < 4; ++i)
      tail.push_back(static_cast<uint8_t>(static_cast<uint32_t>(disp) >> (8 * i)));
  }
}

std::optional<FormInstance> Builder::build() {
  bool needs_w = false, opsize66 = false;
  const int size_log2 = choose_size_log2(needs_w, opsize66);
  if (size_log2 < 0) return std::nullopt;
  std::vector<uint8_t>& bytes = out_.bytes;

  bool memory = form_.handlers.fn[1][size_log2] != nullptr &&
                (form_.handlers.fn[0][size_log2] == nullptr || chance(2));
  if (operand_kind(OperandKind::kO)) memory = true;
  if (memory && !e_.has_modrm && !operand_kind(OperandKind::kO)) memory = false;
  const bool string_form = operand_kind(OperandKind::kX) || operand_kind(OperandKind::kY);
  const bool addr32 = !vex() && (memory || string_form) && chance(8);

  // Legacy prefixes: LOCK, operand size, address size, then the mandatory/REP prefix.
  if (!vex()) {
    if (form_.has(attr::kLock) && memory && chance(2)) bytes.push_back(0xF0);
    if (opsize66) bytes.push_back(0x66);
    if (addr32) bytes.push_back(0x67);
    switch (e_.prefix) {
      case MandatoryPrefix::k66:
        bytes.push_back(0x66);
        break;
      case MandatoryPrefix::kF3:
        bytes.push_back(0xF3);
        break;
      case MandatoryPrefix::kF2:
        bytes.push_back(0xF2);
        break;
      case MandatoryPrefix::kAny:
        if (form_.has(attr::kRep) && chance(2)) bytes.push_back(chance(2) ? 0xF3 : 0xF2);
        break;
      case MandatoryPrefix::kNone:
        break;
    }
  }

  // ModRM and its tail (SIB, displacement), which decide REX.B and REX.X for memory.
  uint8_t modrm = 0;
  std::vector<uint8_t> tail;
  bool rex_r = chance(2), rex_x = chance(2), rex_b = chance(2);
  if (e_.has_modrm) {
    const unsigned reg = e_.modrm_reg >= 0 ? static_cast<unsigned>(e_.modrm_reg) : random() % 8;
    modrm = static_cast<uint8_t>(reg << 3);
    if (memory) {
      rex_b = rex_x = false;
      memory_operand(modrm, tail, rex_b, rex_x, addr32);
    } else {
      const unsigned rm = e_.modrm_rm >= 0 ? static_cast<unsigned>(e_.modrm_rm) : random() % 8;
      modrm = static_cast<uint8_t>(0xC0 | reg << 3 | rm);
    }
  }
  uint8_t opcode = e_.opcode;
  if (e_.plus_r) opcode = static_cast<uint8_t>(opcode | (random() % 8));

  if (vex()) {
    const unsigned mmmmm =
        e_.map == OpcodeMap::kVex0F ? 1 : (e_.map == OpcodeMap::kVex0F38 ? 2 : 3);
    const bool uses_vvvv = operand_kind(OperandKind::kB) || operand_kind(OperandKind::kH);
    const unsigned vvvv = uses_vvvv ? random() % 16 : 0;
    const unsigned l = e_.vex_l >= 0 ? static_cast<unsigned>(e_.vex_l) : random() % 2;
    static constexpr unsigned kPp[] = {0, 0, 1, 2, 3};  // kAny, kNone, k66, kF3, kF2
    const unsigned pp = kPp[static_cast<int>(e_.prefix)];
    const bool w = e_.rex_w >= 0 ? e_.rex_w == 1 : needs_w;
    bytes.push_back(0xC4);
    bytes.push_back(static_cast<uint8_t>((!rex_r) << 7 | (!rex_x) << 6 | (!rex_b) << 5 | mmmmm));
    bytes.push_back(static_cast<uint8_t>(w << 7 | ((~vvvv) & 0xF) << 3 | l << 2 | pp));
  } else {
    const bool w = needs_w || (e_.rex_w < 0 && chance(16) &&
                               soft::size_class(ops_, form_.attributes) != OperandSize::kV &&
                               soft::size_class(ops_, form_.attributes) != OperandSize::kY);
    const uint8_t rex = static_cast<uint8_t>(0x40 | w << 3 | rex_r << 2 | rex_x << 1 | rex_b);
    if (rex != 0x40 || chance(4)) bytes.push_back(rex);
    if (e_.map != OpcodeMap::kPrimary) bytes.push_back(0x0F);
    if (e_.map == OpcodeMap::k0F38) bytes.push_back(0x38);
    if (e_.map == OpcodeMap::k0F3A) bytes.push_back(0x3A);
  }
  bytes.push_back(opcode);
  const size_t modrm_at = bytes.size();
  if (e_.has_modrm) {
    bytes.push_back(modrm);
    bytes.insert(bytes.end(), tail.begin(), tail.end());
  }
  const size_t disp_at = modrm_at + 1 + disp_offset_;

  // Immediates, in operand order.
  size_t sled_target_offset = 0;
  bool has_relative = false;
  for (size_t i = 0; i < ops_.count; ++i) {
    const auto spec = ops_[i];
    size_t n = 0;
    if (spec.kind == OperandKind::kO) {
      const uint64_t address = kDataAddress + 0x400 + random() % (kDataSize - 0x800);
      target_ = address;
      n = addr32 ? 4 : 8;
      for (size_t b = 0; b < n; ++b) bytes.push_back(static_cast<uint8_t>(address >> (8 * b)));
      continue;
    }
    if (spec.kind == OperandKind::kJ) {
      n = spec.size == OperandSize::kB ? 1 : 4;
      has_relative = true;
      sled_target_offset = random() % kSledLength;
      for (size_t b = 0; b < n; ++b)
        bytes.push_back(static_cast<uint8_t>(sled_target_offset >> (8 * b)));
      continue;
    }
    if (spec.kind != OperandKind::kI) continue;
    switch (spec.size) {
      case OperandSize::kB:
        n = 1;
        break;
      case OperandSize::kW:
        n = 2;
        break;
      case OperandSize::kD:
        n = 4;
        break;
      case OperandSize::kQ:
        n = 8;
        break;
      case OperandSize::kZ:
        n = size_log2 == 1 ? 2 : 4;
        break;
      case OperandSize::kV:
        n = size_t{1} << size_log2;
        break;
      default:
        return std::nullopt;
    }
    const uint64_t value = random_immediate(n);
    for (size_t b = 0; b < n; ++b) bytes.push_back(static_cast<uint8_t>(value >> (8 * b)));
  }
  (void)has_relative;

  // Fix-ups that need the final length.
  const uint64_t next = kCodeAddress + bytes.size();
  if (rip_relative_) {
    const auto disp = static_cast<uint32_t>(target_ - next);
    std::memcpy(bytes.data() + disp_at, &disp, 4);
  }
  const uint64_t sled_address = next + random() % kSledLength;
  const bool branch = form_.has(attr::kF64) && form_.has(attr::kEndsBlock);
  std::string_view mnemonic(form_.mnemonic);
  if (branch && operand_kind(OperandKind::kE)) {  // JMP/CALL r/m64: the target is the operand
    if (memory)
      out_.memory.push_back({target_, sled_address, 8});
    else
      out_.registers.push_back({(modrm & 7) | (rex_b ? 8 : 0), sled_address});
  }
  if (mnemonic == "RET") out_.memory.push_back({0, sled_address, 8});  // address 0: [RSP]
  // POPF with TF set would single-step the sled (#DB), and with AC set the harness's own
  // misaligned accesses would raise #AC: neither is modelled yet (docs/cpu.md).
  if (mnemonic == "POPF") out_.memory.push_back({0, random() & ~uint64_t{0x40100}, 8});
  if (string_form) {
    out_.registers.push_back({kRsi, kDataAddress + kDataSize / 2 + random() % 256});
    out_.registers.push_back({kRdi, kDataAddress + kDataSize / 4 + random() % 256});
    out_.registers.push_back({kRcx, random() % 24});
  }
  for (const ImplicitPointer& p : kImplicitPointers) {
    if (mnemonic == p.mnemonic)
      out_.registers.push_back({p.reg, kDataAddress + kDataSize / 2 + random() % 512});
  }
  for (std::string_view bt : kBitOffsetMnemonics) {
    if (mnemonic == bt && memory && operand_kind(OperandKind::kG)) {
      const unsigned reg = ((modrm >> 3) & 7) | (rex_r ? 8 : 0);
      out_.registers.push_back(
          {static_cast<int>(reg),
           static_cast<uint64_t>(static_cast<int64_t>(random() % 4096) - 2048)});
    }
  }
  return out_;
}

}  // namespace

std::optional<FormInstance> make_instance(uint16_t form_index, std::mt19937_64& rng) {
  const Decoder& decoder = Decoder::instance();
  const FormSpec& form = decoder.form(form_index);
  const Encoding& encoding = decoder.encoding(form_index);
  for (int attempt = 0; attempt < 64; ++attempt) {
    auto instance = Builder(form, encoding, rng).build();
    if (!instance) continue;
    const auto& bytes = instance->bytes;
    const DecodeResult decoded = decoder.decode(bytes.data(), bytes.size());
    if (decoded.kind == DecodeResult::Kind::kOk && decoded.insn.form == form_index &&
        decoded.insn.length == bytes.size()) {
      return instance;
    }
  }
  return std::nullopt;
}

std::string hex(const std::vector<uint8_t>& bytes) {
  std::string out;
  for (uint8_t b : bytes) out += fmt::format("{:02x} ", b);
  if (!out.empty()) out.pop_back();
  return out;
}

}  // namespace cella::diff
