#include "engines/soft/decoder/encoding.h"

#include <cstdlib>
#include <vector>

#include <fmt/format.h>

namespace cella::soft {

namespace {

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (!text.empty()) {
    const size_t at = text.find(separator);
    if (at != 0) parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) break;
    text = text.substr(at + 1);
  }
  return parts;
}

bool parse_hex_byte(std::string_view token, uint8_t& out) {
  if (token.size() != 2) return false;
  unsigned value = 0;
  for (char c : token) {
    value <<= 4;
    if (c >= '0' && c <= '9')
      value |= static_cast<unsigned>(c - '0');
    else if (c >= 'A' && c <= 'F')
      value |= static_cast<unsigned>(c - 'A' + 10);
    else
      return false;
  }
  out = static_cast<uint8_t>(value);
  return true;
}

struct PrefixName {
  std::string_view name;
  MandatoryPrefix prefix;
};
constexpr PrefixName kPrefixes[] = {
    {"NP", MandatoryPrefix::kNone},
    {"66", MandatoryPrefix::k66},
    {"F3", MandatoryPrefix::kF3},
    {"F2", MandatoryPrefix::kF2},
};

// "VEX.LZ.66.0F38.W0" (SDM Vol. 2A 3.1.1.2): L, pp, map, W in any order after "VEX".
Result<void> parse_vex(std::string_view token, Encoding& e) {
  e.prefix = MandatoryPrefix::kNone;
  e.map = OpcodeMap::kVex0F;
  bool have_map = false;
  for (std::string_view field : split(token.substr(4), '.')) {
    if (field == "LZ" || field == "L0" || field == "128")
      e.vex_l = 0;
    else if (field == "L1" || field == "256")
      e.vex_l = 1;
    else if (field == "LIG")
      e.vex_l = -1;
    else if (field == "W0")
      e.rex_w = 0;
    else if (field == "W1")
      e.rex_w = 1;
    else if (field == "WIG")
      e.rex_w = -1;
    else if (field == "0F")
      e.map = OpcodeMap::kVex0F, have_map = true;
    else if (field == "0F38")
      e.map = OpcodeMap::kVex0F38, have_map = true;
    else if (field == "0F3A")
      e.map = OpcodeMap::kVex0F3A, have_map = true;
    else if (field == "66")
      e.prefix = MandatoryPrefix::k66;
    else if (field == "F3")
      e.prefix = MandatoryPrefix::kF3;
    else if (field == "F2")
      e.prefix = MandatoryPrefix::kF2;
    else
      return make_error("unknown VEX field '{}'", field);
  }
  if (!have_map) return make_error("VEX form without an opcode map");
  return ok();
}

}  // namespace

Result<Encoding> parse_encoding(std::string_view text) {
  Encoding e;
  enum class Stage { kPrefixes, kMap, kAfterOpcode } stage = Stage::kPrefixes;
  bool escaped = false;  // saw 0F
  for (std::string_view token : split(text, ' ')) {
    if (stage == Stage::kPrefixes) {
      bool was_prefix = false;
      for (const PrefixName& p : kPrefixes) {
        if (token == p.name) {
          // "66 0F ..." is a mandatory prefix; a lone "66" opcode does not exist in 64-bit mode.
          e.prefix = p.prefix;
          was_prefix = true;
        }
      }
      if (token == "REX.W") e.rex_w = 1, was_prefix = true;
      if (token.starts_with("VEX.")) {
        CELLA_TRY(parse_vex(token, e));
        stage = Stage::kMap;
        escaped = true;  // VEX implies the map: the next byte is the opcode
        continue;
      }
      if (was_prefix) continue;
      stage = Stage::kMap;
    }
    if (stage == Stage::kMap) {
      if (!escaped && token == "0F") {
        e.map = OpcodeMap::k0F;
        escaped = true;
        continue;
      }
      if (e.map == OpcodeMap::k0F && (token == "38" || token == "3A")) {
        e.map = token == "38" ? OpcodeMap::k0F38 : OpcodeMap::k0F3A;
        continue;
      }
      std::string_view byte = token;
      if (byte.ends_with("+r")) {
        e.plus_r = true;
        byte.remove_suffix(2);
      }
      if (!parse_hex_byte(byte, e.opcode)) return make_error("bad opcode byte '{}'", token);
      if (e.plus_r && (e.opcode & 7) != 0) return make_error("'+r' opcode must end in 0 or 8");
      stage = Stage::kAfterOpcode;
      continue;
    }
    // After the opcode: ModRM description.
    if (e.has_modrm) return make_error("more than one ModRM token in '{}'", text);
    e.has_modrm = true;
    if (token == "/r") continue;
    if (token.size() == 2 && token[0] == '/' && token[1] >= '0' && token[1] <= '7') {
      e.modrm_reg = static_cast<int8_t>(token[1] - '0');
      continue;
    }
    std::string_view byte = token;
    const bool any_rm = byte.ends_with("+i");
    if (any_rm) byte.remove_suffix(2);
    uint8_t modrm = 0;
    if (!parse_hex_byte(byte, modrm) || modrm < 0xC0) {
      return make_error("bad ModRM token '{}' (want /r, /digit, or a byte C0-FF)", token);
    }
    if (any_rm && (modrm & 7) != 0) return make_error("'+i' ModRM must have rm = 0");
    e.modrm_mod = 3;
    e.modrm_reg = static_cast<int8_t>((modrm >> 3) & 7);
    e.modrm_rm = any_rm ? -1 : static_cast<int8_t>(modrm & 7);
  }
  if (stage != Stage::kAfterOpcode) return make_error("no opcode byte in '{}'", text);
  return e;
}

std::string describe(const Encoding& e) {
  static constexpr const char* kMaps[] = {"",        "0F ",       "0F 38 ",   "0F 3A ",
                                          "VEX.0F ", "VEX.0F38 ", "VEX.0F3A "};
  static constexpr const char* kPrefixNames[] = {"", "NP ", "66 ", "F3 ", "F2 "};
  std::string out = fmt::format("{}{}{}{:02X}", kPrefixNames[static_cast<int>(e.prefix)],
                                e.rex_w == 1 ? "W1 " : (e.rex_w == 0 ? "W0 " : ""),
                                kMaps[static_cast<int>(e.map)], e.opcode);
  if (e.plus_r) out += "+r";
  if (e.has_modrm) {
    if (e.modrm_rm >= 0)
      out += fmt::format(" modrm={}/{}", e.modrm_reg, e.modrm_rm);
    else if (e.modrm_reg >= 0)
      out += fmt::format(" /{}", e.modrm_reg);
    else
      out += " /r";
    if (e.modrm_mod == 3) out += " (reg)";
    if (e.modrm_mod == 0) out += " (mem)";
  }
  return out;
}

}  // namespace cella::soft
