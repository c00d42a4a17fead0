// 128-bit identifiers in image formats: VHD's Unique Id (VHD spec "Hard Disk Footer Format":
// a UUID stored as 16 bytes, big-endian like every VHD field) and VHDX's GUIDs ([MS-VHDX] 2.1
// "GUID": Data1, Data2 and Data3 little-endian, Data4 as bytes). One value type, two layouts.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cella::block {

struct Guid {
  uint32_t data1 = 0;
  uint16_t data2 = 0;
  uint16_t data3 = 0;
  std::array<uint8_t, 8> data4{};

  static Guid random();  // version 4 (random) identifier
  // "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", with or without braces, any case.
  static std::optional<Guid> parse(std::string_view text);

  static Guid load_ms(const uint8_t* p);  // [MS-VHDX] 2.1 layout
  void store_ms(uint8_t* p) const;
  static Guid load_be(const uint8_t* p);  // RFC 4122 byte order (VHD)
  void store_be(uint8_t* p) const;

  bool is_zero() const { return *this == Guid{}; }
  std::string to_string() const;  // lower case, no braces
  bool operator==(const Guid&) const = default;
};

}  // namespace cella::block
