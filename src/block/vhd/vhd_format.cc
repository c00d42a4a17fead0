#include "block/vhd/vhd_format.h"

#include <fmt/format.h>

#include <cstring>

#include "base/bits.h"

namespace cella::block::vhd {

namespace {

// [VHD] "Hard Disk Footer Format": byte offsets of the fields.
constexpr size_t kFooterCookie = 0;  // "conectix"
constexpr size_t kFooterFeatures = 8;
constexpr size_t kFooterVersion = 12;
constexpr size_t kFooterDataOffset = 16;
constexpr size_t kFooterTimestamp = 24;
constexpr size_t kFooterCreatorApp = 28;
constexpr size_t kFooterCreatorVersion = 32;
constexpr size_t kFooterCreatorHostOs = 36;
constexpr size_t kFooterOriginalSize = 40;
constexpr size_t kFooterCurrentSize = 48;
constexpr size_t kFooterGeometry = 56;
constexpr size_t kFooterDiskType = 60;
constexpr size_t kFooterChecksum = 64;
constexpr size_t kFooterUniqueId = 68;
constexpr size_t kFooterSavedState = 84;
constexpr char kFooterCookieText[] = "conectix";

// [VHD] "Dynamic Disk Header Format": byte offsets of the fields.
constexpr size_t kHeaderCookie = 0;  // "cxsparse"
constexpr size_t kHeaderDataOffset = 8;
constexpr size_t kHeaderTableOffset = 16;
constexpr size_t kHeaderVersion = 24;
constexpr size_t kHeaderMaxTableEntries = 28;
constexpr size_t kHeaderBlockSize = 32;
constexpr size_t kHeaderChecksum = 36;
constexpr size_t kHeaderParentUniqueId = 40;
constexpr size_t kHeaderParentTimestamp = 56;
constexpr size_t kHeaderParentName = 64;
constexpr size_t kHeaderLocators = 576;  // 8 entries of 24 bytes
constexpr size_t kLocatorSize = 24;
constexpr char kHeaderCookieText[] = "cxsparse";

bool major_version_is_1(uint32_t version) {
  return (version >> 16) == 1;
}

}  // namespace

uint32_t vhd_checksum(std::span<const uint8_t> bytes, size_t checksum_offset) {
  uint32_t sum = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i >= checksum_offset && i < checksum_offset + 4) continue;
    sum += bytes[i];
  }
  return ~sum;
}

std::string fourcc(uint32_t value) {
  std::string text;
  for (int shift = 24; shift >= 0; shift -= 8) {
    const char c = static_cast<char>((value >> shift) & 0xFF);
    if (c >= 0x20 && c < 0x7F) {
      text += c;
    } else {
      text += fmt::format("\\x{:02x}", static_cast<uint8_t>(c));
    }
  }
  return text;
}

std::string disk_type_name(uint32_t disk_type) {
  static constexpr struct {
    DiskType type;
    const char* name;
  } kNames[] = {{DiskType::kFixed, "fixed"},
                {DiskType::kDynamic, "dynamic"},
                {DiskType::kDifferencing, "differencing"}};
  for (const auto& entry : kNames) {
    if (static_cast<uint32_t>(entry.type) == disk_type) return entry.name;
  }
  return fmt::format("unknown ({})", disk_type);
}

Result<Footer> parse_footer(std::span<const uint8_t> bytes) {
  if (bytes.size() < kFooterSize) return make_error("VHD footer is shorter than 512 bytes");
  const uint8_t* p = bytes.data();
  if (std::memcmp(p + kFooterCookie, kFooterCookieText, 8) != 0) {
    return make_error("no VHD footer (the 'conectix' cookie is missing)");
  }
  Footer footer;
  footer.features = load_be<uint32_t>(p + kFooterFeatures);
  footer.format_version = load_be<uint32_t>(p + kFooterVersion);
  footer.data_offset = load_be<uint64_t>(p + kFooterDataOffset);
  footer.timestamp = load_be<uint32_t>(p + kFooterTimestamp);
  std::memcpy(footer.creator_application.data(), p + kFooterCreatorApp, 4);
  footer.creator_version = load_be<uint32_t>(p + kFooterCreatorVersion);
  footer.creator_host_os = load_be<uint32_t>(p + kFooterCreatorHostOs);
  footer.original_size = load_be<uint64_t>(p + kFooterOriginalSize);
  footer.current_size = load_be<uint64_t>(p + kFooterCurrentSize);
  footer.geometry.cylinders = load_be<uint16_t>(p + kFooterGeometry);
  footer.geometry.heads = p[kFooterGeometry + 2];
  footer.geometry.sectors_per_track = p[kFooterGeometry + 3];
  footer.disk_type = load_be<uint32_t>(p + kFooterDiskType);
  footer.checksum = load_be<uint32_t>(p + kFooterChecksum);
  footer.unique_id = Guid::load_be(p + kFooterUniqueId);
  footer.saved_state = p[kFooterSavedState];

  const uint32_t expected = vhd_checksum(bytes.first(kFooterSize), kFooterChecksum);
  if (footer.checksum != expected) {
    return make_error("VHD footer checksum is {:#010x}, the footer's bytes sum to {:#010x}",
                      footer.checksum, expected);
  }
  if (!major_version_is_1(footer.format_version)) {
    return make_error("VHD file format version {:#010x} is not supported (only 1.x)",
                      footer.format_version);
  }
  return footer;
}

std::array<uint8_t, kFooterSize> serialize_footer(const Footer& footer) {
  std::array<uint8_t, kFooterSize> bytes{};
  uint8_t* p = bytes.data();
  std::memcpy(p + kFooterCookie, kFooterCookieText, 8);
  store_be<uint32_t>(p + kFooterFeatures, footer.features);
  store_be<uint32_t>(p + kFooterVersion, footer.format_version);
  store_be<uint64_t>(p + kFooterDataOffset, footer.data_offset);
  store_be<uint32_t>(p + kFooterTimestamp, footer.timestamp);
  std::memcpy(p + kFooterCreatorApp, footer.creator_application.data(), 4);
  store_be<uint32_t>(p + kFooterCreatorVersion, footer.creator_version);
  store_be<uint32_t>(p + kFooterCreatorHostOs, footer.creator_host_os);
  store_be<uint64_t>(p + kFooterOriginalSize, footer.original_size);
  store_be<uint64_t>(p + kFooterCurrentSize, footer.current_size);
  store_be<uint16_t>(p + kFooterGeometry, footer.geometry.cylinders);
  p[kFooterGeometry + 2] = footer.geometry.heads;
  p[kFooterGeometry + 3] = footer.geometry.sectors_per_track;
  store_be<uint32_t>(p + kFooterDiskType, footer.disk_type);
  footer.unique_id.store_be(p + kFooterUniqueId);
  p[kFooterSavedState] = footer.saved_state;
  store_be<uint32_t>(p + kFooterChecksum, vhd_checksum(bytes, kFooterChecksum));
  return bytes;
}

Result<DynamicHeader> parse_dynamic_header(std::span<const uint8_t> bytes) {
  if (bytes.size() < kDynamicHeaderSize) return make_error("VHD dynamic header is truncated");
  const uint8_t* p = bytes.data();
  if (std::memcmp(p + kHeaderCookie, kHeaderCookieText, 8) != 0) {
    return make_error("no VHD dynamic disk header (the 'cxsparse' cookie is missing)");
  }
  DynamicHeader header;
  header.data_offset = load_be<uint64_t>(p + kHeaderDataOffset);
  header.table_offset = load_be<uint64_t>(p + kHeaderTableOffset);
  header.header_version = load_be<uint32_t>(p + kHeaderVersion);
  header.max_table_entries = load_be<uint32_t>(p + kHeaderMaxTableEntries);
  header.block_size = load_be<uint32_t>(p + kHeaderBlockSize);
  header.checksum = load_be<uint32_t>(p + kHeaderChecksum);
  header.parent_unique_id = Guid::load_be(p + kHeaderParentUniqueId);
  header.parent_timestamp = load_be<uint32_t>(p + kHeaderParentTimestamp);
  std::memcpy(header.parent_name.data(), p + kHeaderParentName, kParentNameBytes);
  for (int i = 0; i < kParentLocatorCount; ++i) {
    const uint8_t* entry = p + kHeaderLocators + i * kLocatorSize;
    ParentLocator& locator = header.locators[i];
    locator.platform_code = load_be<uint32_t>(entry);
    locator.data_space = load_be<uint32_t>(entry + 4);
    locator.data_length = load_be<uint32_t>(entry + 8);
    locator.data_offset = load_be<uint64_t>(entry + 16);  // entry + 12: reserved
  }
  const uint32_t expected = vhd_checksum(bytes.first(kDynamicHeaderSize), kHeaderChecksum);
  if (header.checksum != expected) {
    return make_error("VHD dynamic header checksum is {:#010x}, the header's bytes sum to {:#010x}",
                      header.checksum, expected);
  }
  if (!major_version_is_1(header.header_version)) {
    return make_error("VHD dynamic header version {:#010x} is not supported (only 1.x)",
                      header.header_version);
  }
  return header;
}

std::array<uint8_t, kDynamicHeaderSize> serialize_dynamic_header(const DynamicHeader& header) {
  std::array<uint8_t, kDynamicHeaderSize> bytes{};
  uint8_t* p = bytes.data();
  std::memcpy(p + kHeaderCookie, kHeaderCookieText, 8);
  store_be<uint64_t>(p + kHeaderDataOffset, header.data_offset);
  store_be<uint64_t>(p + kHeaderTableOffset, header.table_offset);
  store_be<uint32_t>(p + kHeaderVersion, header.header_version);
  store_be<uint32_t>(p + kHeaderMaxTableEntries, header.max_table_entries);
  store_be<uint32_t>(p + kHeaderBlockSize, header.block_size);
  header.parent_unique_id.store_be(p + kHeaderParentUniqueId);
  store_be<uint32_t>(p + kHeaderParentTimestamp, header.parent_timestamp);
  std::memcpy(p + kHeaderParentName, header.parent_name.data(), kParentNameBytes);
  for (int i = 0; i < kParentLocatorCount; ++i) {
    uint8_t* entry = p + kHeaderLocators + i * kLocatorSize;
    const ParentLocator& locator = header.locators[i];
    store_be<uint32_t>(entry, locator.platform_code);
    store_be<uint32_t>(entry + 4, locator.data_space);
    store_be<uint32_t>(entry + 8, locator.data_length);
    store_be<uint64_t>(entry + 16, locator.data_offset);
  }
  store_be<uint32_t>(p + kHeaderChecksum, vhd_checksum(bytes, kHeaderChecksum));
  return bytes;
}

}  // namespace cella::block::vhd
