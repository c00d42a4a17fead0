// Building the decoder's lookup tables from the form table, and checking the table.
#include <algorithm>

#include <fmt/format.h>

#include "engines/soft/decoder/decoder.h"

namespace cella::soft {

namespace {

bool compatible(int8_t a, int8_t b) {
  return a < 0 || b < 0 || a == b;
}

bool prefixes_overlap(MandatoryPrefix a, MandatoryPrefix b) {
  return a == MandatoryPrefix::kAny || b == MandatoryPrefix::kAny || a == b;
}

// Two forms can match the same bytes.
bool overlap(const Encoding& a, const Encoding& b) {
  return prefixes_overlap(a.prefix, b.prefix) && compatible(a.rex_w, b.rex_w) &&
         compatible(a.vex_l, b.vex_l) && compatible(a.modrm_reg, b.modrm_reg) &&
         compatible(a.modrm_rm, b.modrm_rm) &&
         (a.modrm_mod < 0 || b.modrm_mod < 0 || a.modrm_mod == b.modrm_mod);
}

}  // namespace

const Decoder& Decoder::instance() {
  static const Decoder decoder(all_forms());
  return decoder;
}

Decoder::Decoder(std::span<const FormSpec> forms) : forms_(forms.begin(), forms.end()) {
  encodings_.resize(forms_.size());
  for (size_t i = 0; i < forms_.size(); ++i) add_form(static_cast<uint16_t>(i));
  for (auto& map : candidates_) {
    for (auto& list : map) {
      std::stable_sort(list.begin(), list.end(), [&](uint16_t a, uint16_t b) {
        return encodings_[a].specificity() > encodings_[b].specificity();
      });
    }
  }
  check_ambiguity();
}

void Decoder::add_form(uint16_t index) {
  const FormSpec& form = forms_[index];
  auto parsed = parse_encoding(form.opcode);
  if (!parsed) {
    errors_.push_back(
        fmt::format("{} \"{}\": {}", form.mnemonic, form.opcode, parsed.error().message()));
    return;
  }
  Encoding e = *parsed;
  // ModRM presence and mod constraints follow from the operands too.
  bool operands_use_modrm = false;
  for (size_t i = 0; i < form.operand_list.count; ++i) {
    operands_use_modrm |= uses_modrm(form.operand_list[i].kind);
  }
  if (operands_use_modrm && !e.has_modrm) {
    errors_.push_back(
        fmt::format("{} \"{}\": operands need ModRM but the opcode has no /r or "
                    "/digit",
                    form.mnemonic, form.opcode));
    return;
  }
  if (e.has_modrm && e.modrm_mod < 0) {
    const bool mem = form_has_memory_variant(form.operand_list);
    const bool reg = form_has_register_variant(form.operand_list);
    if (mem && !reg) e.modrm_mod = 0;
    if (reg && !mem && operands_use_modrm) {
      // Only r/m operands that are registers (R, U, N, STi) make a register-only form;
      // forms whose ModRM operands are all reg-field ones (G, V) take any mod.
      bool rm_register_only = false;
      for (size_t i = 0; i < form.operand_list.count; ++i) {
        const OperandKind k = form.operand_list[i].kind;
        rm_register_only |= k == OperandKind::kR || k == OperandKind::kU || k == OperandKind::kN ||
                            k == OperandKind::kSti;
      }
      if (rm_register_only) e.modrm_mod = 3;
    }
  }
  encodings_[index] = e;
  auto& map = candidates_[static_cast<int>(e.map)];
  const int count = e.plus_r ? 8 : 1;
  for (int r = 0; r < count; ++r) {
    auto& list = map[e.opcode + r];
    if (!list.empty() && encodings_[list.front()].has_modrm != e.has_modrm) {
      errors_.push_back(fmt::format("{} \"{}\": disagrees with {} on ModRM presence", form.mnemonic,
                                    form.opcode, forms_[list.front()].mnemonic));
    }
    list.push_back(index);
  }
}

void Decoder::check_ambiguity() {
  for (const auto& map : candidates_) {
    for (const auto& list : map) {
      for (size_t i = 0; i < list.size(); ++i) {
        for (size_t j = i + 1; j < list.size(); ++j) {
          const Encoding& a = encodings_[list[i]];
          const Encoding& b = encodings_[list[j]];
          if (a.specificity() == b.specificity() && overlap(a, b)) {
            errors_.push_back(fmt::format("ambiguous forms: {} \"{}\" and {} \"{}\"",
                                          forms_[list[i]].mnemonic, forms_[list[i]].opcode,
                                          forms_[list[j]].mnemonic, forms_[list[j]].opcode));
          }
        }
      }
    }
  }
}

}  // namespace cella::soft
