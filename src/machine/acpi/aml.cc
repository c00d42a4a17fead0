#include "machine/acpi/aml.h"

#include <cassert>

namespace cella::machine::aml {
namespace {

// ACPI 6.5 20.3 AML byte stream byte values.
constexpr uint8_t kZeroOp = 0x00, kOneOp = 0x01, kNameOp = 0x08, kBytePrefix = 0x0a,
                  kWordPrefix = 0x0b, kDWordPrefix = 0x0c, kStringPrefix = 0x0d,
                  kQWordPrefix = 0x0e, kScopeOp = 0x10, kBufferOp = 0x11, kPackageOp = 0x12,
                  kMethodOp = 0x14, kDualNamePrefix = 0x2e, kMultiNamePrefix = 0x2f,
                  kExtOpPrefix = 0x5b, kDeviceOp = 0x82, kRootChar = '\\', kReturnOp = 0xa4;

void append(Bytes& out, const Bytes& more) {
  out.insert(out.end(), more.begin(), more.end());
}

void append_le(Bytes& out, uint64_t value, int size) {
  for (int i = 0; i < size; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

Bytes with_length(std::initializer_list<uint8_t> opcode, const Bytes& body) {
  Bytes out(opcode);
  append(out, package_length(body.size()));
  append(out, body);
  return out;
}

Bytes concat(const std::vector<Bytes>& parts) {
  Bytes out;
  for (const Bytes& p : parts) append(out, p);
  return out;
}

}  // namespace

Bytes package_length(size_t body_size) {
  // One byte holds lengths up to 63 (6 bits); with n extra bytes, 4 + 8n bits.
  for (size_t extra = 0; extra <= 3; ++extra) {
    const size_t total = body_size + 1 + extra;
    const size_t limit = extra == 0 ? 63 : (size_t{1} << (4 + 8 * extra)) - 1;
    if (total > limit) continue;
    Bytes out;
    if (extra == 0) {
      out.push_back(static_cast<uint8_t>(total));
    } else {
      out.push_back(static_cast<uint8_t>((extra << 6) | (total & 0xf)));
      for (size_t i = 0; i < extra; ++i) out.push_back(static_cast<uint8_t>(total >> (4 + 8 * i)));
    }
    return out;
  }
  assert(false && "AML package longer than 256 MiB");
  return {};
}

Bytes name_string(std::string_view path) {
  Bytes out;
  if (!path.empty() && path.front() == '\\') {
    out.push_back(kRootChar);
    path.remove_prefix(1);
  }
  std::vector<std::string_view> segments;
  while (!path.empty()) {
    const size_t dot = path.find('.');
    segments.push_back(path.substr(0, dot));
    path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
  }
  if (segments.size() == 2) out.push_back(kDualNamePrefix);
  if (segments.size() > 2) {
    out.push_back(kMultiNamePrefix);
    out.push_back(static_cast<uint8_t>(segments.size()));
  }
  if (segments.empty()) out.push_back(0);  // NullName
  for (std::string_view segment : segments) {
    assert(!segment.empty() && segment.size() <= 4);
    for (size_t i = 0; i < 4; ++i) out.push_back(i < segment.size() ? segment[i] : '_');
  }
  return out;
}

Bytes integer(uint64_t value) {
  Bytes out;
  if (value == 0) return {kZeroOp};
  if (value == 1) return {kOneOp};
  const auto [prefix, size] = value <= 0xff         ? std::pair{kBytePrefix, 1}
                              : value <= 0xffff     ? std::pair{kWordPrefix, 2}
                              : value <= 0xffffffff ? std::pair{kDWordPrefix, 4}
                                                    : std::pair{kQWordPrefix, 8};
  out.push_back(prefix);
  append_le(out, value, size);
  return out;
}

Bytes string(std::string_view text) {
  Bytes out(text.size() + 2, 0);  // StringPrefix, the ASCII characters, NullChar
  out[0] = kStringPrefix;
  for (size_t i = 0; i < text.size(); ++i) out[i + 1] = static_cast<uint8_t>(text[i]);
  return out;
}

Bytes eisa_id(std::string_view id) {
  // Three letters in 5 bits each ('A' = 1), then four hex digits; stored big-endian.
  assert(id.size() == 7);
  auto hex = [](char c) -> uint32_t { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  const uint32_t value = ((id[0] - '@') & 0x1f) << 26 | ((id[1] - '@') & 0x1f) << 21 |
                         ((id[2] - '@') & 0x1f) << 16 | hex(id[3]) << 12 | hex(id[4]) << 8 |
                         hex(id[5]) << 4 | hex(id[6]);
  return integer(__builtin_bswap32(value));
}

Bytes name(std::string_view path, const Bytes& value) {
  Bytes out{kNameOp};
  append(out, name_string(path));
  append(out, value);
  return out;
}

Bytes package(const std::vector<Bytes>& elements) {
  assert(elements.size() <= 255);
  Bytes body{static_cast<uint8_t>(elements.size())};
  append(body, concat(elements));
  return with_length({kPackageOp}, body);
}

Bytes scope(std::string_view path, const std::vector<Bytes>& terms) {
  Bytes body = name_string(path);
  append(body, concat(terms));
  return with_length({kScopeOp}, body);
}

Bytes device(std::string_view path, const std::vector<Bytes>& terms) {
  Bytes body = name_string(path);
  append(body, concat(terms));
  return with_length({kExtOpPrefix, kDeviceOp}, body);
}

Bytes buffer(const Bytes& data) {
  Bytes body = integer(data.size());
  append(body, data);
  return with_length({kBufferOp}, body);
}

Bytes method_returning(std::string_view path, const Bytes& value) {
  Bytes body = name_string(path);
  body.push_back(0);  // MethodFlags: no arguments, not serialized
  body.push_back(kReturnOp);
  append(body, value);
  return with_length({kMethodOp}, body);
}

namespace resource {

Bytes io(uint16_t base, uint8_t length) {
  Bytes out{0x47, 0x01};  // small item, I/O port descriptor, 16-bit decode
  append_le(out, base, 2);
  append_le(out, base, 2);
  out.push_back(1);  // alignment
  out.push_back(length);
  return out;
}

Bytes irq(uint16_t mask) {
  Bytes out{0x22};  // small item, IRQ descriptor without information byte
  append_le(out, mask, 2);
  return out;
}

namespace {
// ACPI 6.5 6.4.3.5: address space descriptors share one layout at three widths.
Bytes address_space(uint8_t tag, uint8_t type, uint8_t type_flags, uint64_t first, uint64_t last,
                    int width, bool consumer = false) {
  Bytes out{tag};
  append_le(out, 3 + 5 * width, 2);          // length after the length field
  out.push_back(type);                       // 0 memory, 1 I/O, 2 bus number
  out.push_back(0x0c | (consumer ? 1 : 0));  // general flags: min and max fixed; bit 0 consumer
  out.push_back(type_flags);
  append_le(out, 0, width);                 // granularity
  append_le(out, first, width);             // range minimum
  append_le(out, last, width);              // range maximum
  append_le(out, 0, width);                 // translation offset
  append_le(out, last - first + 1, width);  // length
  return out;
}
}  // namespace

Bytes word_bus_number(uint16_t first, uint16_t last) {
  return address_space(0x88, 2, 0, first, last, 2);
}
Bytes word_io(uint16_t first, uint16_t last) {
  return address_space(0x88, 1, 3, first, last, 2);
}
Bytes dword_memory(uint32_t first, uint32_t last, bool consumer) {
  return address_space(0x87, 0, 0x01, first, last, 4, consumer);  // read/write, non-cacheable
}
Bytes qword_memory(uint64_t first, uint64_t last) {
  return address_space(0x8a, 0, 0x01, first, last, 8);
}

Bytes template_of(const std::vector<Bytes>& descriptors) {
  Bytes data = concat(descriptors);
  data.push_back(0x79);  // End Tag
  uint8_t sum = 0;
  for (uint8_t b : data) sum = static_cast<uint8_t>(sum + b);
  data.push_back(static_cast<uint8_t>(-sum));
  return buffer(data);
}

}  // namespace resource

}  // namespace cella::machine::aml
