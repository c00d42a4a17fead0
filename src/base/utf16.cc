#include "base/utf16.h"

namespace cella {

namespace {

uint16_t load_unit(const uint8_t* p, ByteOrder order) {
  return order == ByteOrder::kLittle ? static_cast<uint16_t>(p[0] | (p[1] << 8))
                                     : static_cast<uint16_t>((p[0] << 8) | p[1]);
}

void store_unit(std::vector<uint8_t>& out, uint16_t unit, ByteOrder order) {
  const uint8_t lo = static_cast<uint8_t>(unit), hi = static_cast<uint8_t>(unit >> 8);
  if (order == ByteOrder::kLittle) {
    out.push_back(lo);
    out.push_back(hi);
  } else {
    out.push_back(hi);
    out.push_back(lo);
  }
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

Result<std::string> utf16_to_utf8(std::span<const uint8_t> bytes, ByteOrder order) {
  std::string out;
  const size_t units = bytes.size() / 2;
  for (size_t i = 0; i < units; ++i) {
    uint32_t cp = load_unit(&bytes[2 * i], order);
    if (cp == 0) break;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (i + 1 >= units) return make_error("UTF-16 string ends inside a surrogate pair");
      const uint32_t low = load_unit(&bytes[2 * (i + 1)], order);
      if (low < 0xDC00 || low > 0xDFFF) return make_error("unpaired UTF-16 surrogate");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      ++i;
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return make_error("unpaired UTF-16 surrogate");
    }
    append_utf8(out, cp);
  }
  return out;
}

Result<std::vector<uint8_t>> utf8_to_utf16(std::string_view text, ByteOrder order) {
  std::vector<uint8_t> out;
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<uint8_t>(text[i]);
    uint32_t cp;
    size_t extra;
    if (lead < 0x80) {
      cp = lead;
      extra = 0;
    } else if ((lead & 0xE0) == 0xC0) {
      cp = lead & 0x1F;
      extra = 1;
    } else if ((lead & 0xF0) == 0xE0) {
      cp = lead & 0x0F;
      extra = 2;
    } else if ((lead & 0xF8) == 0xF0) {
      cp = lead & 0x07;
      extra = 3;
    } else {
      return make_error("invalid UTF-8 at byte {}", i);
    }
    if (extra > 0 && i + extra >= text.size()) {
      return make_error("truncated UTF-8 sequence at byte {}", i);
    }
    for (size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<uint8_t>(text[i + k]);
      if ((next & 0xC0) != 0x80) return make_error("invalid UTF-8 at byte {}", i + k);
      cp = (cp << 6) | (next & 0x3F);
    }
    static constexpr uint32_t kMinimum[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMinimum[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return make_error("invalid UTF-8 code point at byte {}", i);
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      store_unit(out, static_cast<uint16_t>(0xD800 + (cp >> 10)), order);
      store_unit(out, static_cast<uint16_t>(0xDC00 + (cp & 0x3FF)), order);
    } else {
      store_unit(out, static_cast<uint16_t>(cp), order);
    }
    i += extra + 1;
  }
  return out;
}

}  // namespace cella
