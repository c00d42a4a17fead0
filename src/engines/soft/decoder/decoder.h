// The x86-64 instruction decoder (64-bit mode), generated from the form table: legacy
// prefixes, REX, VEX, the one-byte, 0F, 0F38 and 0F3A maps, ModRM/SIB/displacement,
// RIP-relative addressing and immediates (SDM Vol. 2A chapter 2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engines/soft/decoder/encoding.h"
#include "engines/soft/decoder/form.h"
#include "engines/soft/insn.h"

namespace cella::soft {

inline constexpr size_t kMaxInstructionLength = 15;  // SDM Vol. 2A 2.3.11
inline constexpr uint16_t kInvalidForm = 0xffff;

struct DecodeResult {
  enum class Kind : uint8_t {
    kOk,
    kNeedMoreBytes,  // the instruction continues past `available` bytes
    kInvalid,        // no form matches, or prefixes are invalid for it: #UD
    kTooLong,        // longer than 15 bytes: #GP(0)
  };
  Kind kind = Kind::kInvalid;
  Insn insn;
};

class Decoder {
 public:
  // The decoder for every form in all_forms(), built on first use.
  static const Decoder& instance();

  DecodeResult decode(const uint8_t* bytes, size_t available) const;

  size_t form_count() const { return forms_.size(); }
  const FormSpec& form(uint16_t index) const { return forms_[index]; }
  const Encoding& encoding(uint16_t index) const { return encodings_[index]; }
  // Inconsistencies in the form table (unparseable opcodes, ambiguous forms). Empty when
  // the table is sound; a unit test asserts it.
  const std::vector<std::string>& table_errors() const { return errors_; }

  explicit Decoder(std::span<const FormSpec> forms);

 private:
  std::vector<FormSpec> forms_;
  std::vector<Encoding> encodings_;
  std::vector<uint16_t> candidates_[static_cast<int>(OpcodeMap::kCount)][256];
  std::vector<std::string> errors_;

  void add_form(uint16_t index);
  void check_ambiguity();
};

}  // namespace cella::soft
