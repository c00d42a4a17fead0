#include "block/guid.h"

#include <sys/random.h>

#include <fmt/format.h>

#include <cstring>

#include "base/bits.h"

namespace cella::block {

Guid Guid::random() {
  uint8_t bytes[16] = {};
  size_t done = 0;
  while (done < sizeof(bytes)) {
    const ssize_t n = ::getrandom(bytes + done, sizeof(bytes) - done, 0);
    if (n > 0) done += static_cast<size_t>(n);
  }
  Guid guid = load_be(bytes);
  guid.data3 = static_cast<uint16_t>((guid.data3 & 0x0FFF) | 0x4000);   // RFC 4122 4.4: version 4
  guid.data4[0] = static_cast<uint8_t>((guid.data4[0] & 0x3F) | 0x80);  // variant 10
  return guid;
}

std::optional<Guid> Guid::parse(std::string_view text) {
  if (text.size() == 38 && text.front() == '{' && text.back() == '}') {
    text = text.substr(1, 36);
  }
  if (text.size() != 36) return std::nullopt;
  uint8_t bytes[16];
  size_t n = 0;
  for (size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    const int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    bytes[n++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return load_be(bytes);
}

Guid Guid::load_ms(const uint8_t* p) {
  Guid guid;
  guid.data1 = load_le<uint32_t>(p);
  guid.data2 = load_le<uint16_t>(p + 4);
  guid.data3 = load_le<uint16_t>(p + 6);
  std::memcpy(guid.data4.data(), p + 8, 8);
  return guid;
}

void Guid::store_ms(uint8_t* p) const {
  store_le<uint32_t>(p, data1);
  store_le<uint16_t>(p + 4, data2);
  store_le<uint16_t>(p + 6, data3);
  std::memcpy(p + 8, data4.data(), 8);
}

Guid Guid::load_be(const uint8_t* p) {
  Guid guid;
  guid.data1 = cella::load_be<uint32_t>(p);
  guid.data2 = cella::load_be<uint16_t>(p + 4);
  guid.data3 = cella::load_be<uint16_t>(p + 6);
  std::memcpy(guid.data4.data(), p + 8, 8);
  return guid;
}

void Guid::store_be(uint8_t* p) const {
  cella::store_be<uint32_t>(p, data1);
  cella::store_be<uint16_t>(p + 4, data2);
  cella::store_be<uint16_t>(p + 6, data3);
  std::memcpy(p + 8, data4.data(), 8);
}

std::string Guid::to_string() const {
  return fmt::format("{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
                     data1, data2, data3, data4[0], data4[1], data4[2], data4[3], data4[4],
                     data4[5], data4[6], data4[7]);
}

}  // namespace cella::block
