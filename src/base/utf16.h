// UTF-16 <-> UTF-8 conversion for on-disk strings (VHD parent names and locators, VHDX parent
// locators and creator). The byte order is a parameter: VHD's Parent Unicode Name is
// big-endian, its W2ku/W2ru locators and everything in VHDX are little-endian.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace cella {

enum class ByteOrder { kLittle, kBig };

// Decodes UTF-16 code units up to the first NUL or the end of `bytes` (an odd trailing byte is
// ignored). Unpaired surrogates are errors: on-disk paths must decode exactly.
Result<std::string> utf16_to_utf8(std::span<const uint8_t> bytes, ByteOrder order);

// Encodes UTF-8 as UTF-16 without a terminator; invalid UTF-8 is an error.
Result<std::vector<uint8_t>> utf8_to_utf16(std::string_view text, ByteOrder order);

}  // namespace cella
