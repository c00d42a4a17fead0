// The opcode column of a form, in the notation of the SDM's instruction summaries
// (SDM Vol. 2A 3.1.1.1 "Opcode Column in the Instruction Summary Table"), parsed into the
// constraints the decoder matches:
//
//   "00 /r"            opcode 00, ModRM present
//   "80 /0"            ModRM.reg must be 0
//   "B8+r"             register in the opcode's low 3 bits
//   "NP 0F 58 /r"      no 66/F2/F3 prefix; two-byte opcode map
//   "66 0F 3A 0F /r"   mandatory 66; three-byte map 0F 3A
//   "REX.W 0F C7 /1"   REX.W must be set
//   "0F 01 D0"         ModRM byte fixed (mod=11, reg=2, rm=0)
//   "D8 C0+i"          ModRM mod=11, reg=0, any rm (x87 register forms)
//   "VEX.LZ.0F38.W0 F2 /r"  VEX-encoded (SDM Vol. 2A 3.1.1.2)
//
// Immediates are not written: they follow from the operand codes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace cella::soft {

enum class OpcodeMap : uint8_t { kPrimary, k0F, k0F38, k0F3A, kVex0F, kVex0F38, kVex0F3A, kCount };

// SDM Vol. 2A 2.1.2 / 3.1.1.1: mandatory prefixes that select SSE forms.
enum class MandatoryPrefix : uint8_t { kAny, kNone, k66, kF3, kF2 };

struct Encoding {
  OpcodeMap map = OpcodeMap::kPrimary;
  uint8_t opcode = 0;
  bool plus_r = false;  // "+r": opcode low 3 bits name a register
  MandatoryPrefix prefix = MandatoryPrefix::kAny;
  int8_t rex_w = -1;  // -1: any; 1: REX.W (or VEX.W1) required; 0: W0 required
  int8_t vex_l = -1;  // VEX.L: -1 ignored (LIG), 0 or 1
  bool has_modrm = false;
  int8_t modrm_reg = -1;  // "/digit" or a fixed ModRM byte
  int8_t modrm_rm = -1;   // fixed ModRM byte
  int8_t modrm_mod = -1;  // -1 any, 3: register forms only, 0: memory forms only

  // How specific the constraints are: the most specific matching form wins.
  int specificity() const {
    return (prefix != MandatoryPrefix::kAny ? 16 : 0) + (rex_w >= 0 ? 8 : 0) +
           (modrm_rm >= 0 ? 4 : 0) + (modrm_reg >= 0 ? 2 : 0) + (modrm_mod >= 0 ? 1 : 0) +
           (vex_l >= 0 ? 1 : 0);
  }
};

Result<Encoding> parse_encoding(std::string_view text);
std::string describe(const Encoding& encoding);

}  // namespace cella::soft
