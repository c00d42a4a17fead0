#include "block/vhdx/vhdx_format.h"

#include <fmt/format.h>

#include <cstring>

#include "base/bits.h"
#include "base/crc32c.h"
#include "base/utf16.h"

namespace cella::block::vhdx {

namespace {

// [MS-VHDX] 2.2.2 Header fields.
constexpr size_t kHeaderSignature = 0;  // "head"
constexpr size_t kHeaderChecksum = 4;
constexpr size_t kHeaderSequence = 8;
constexpr size_t kHeaderFileWriteGuid = 16;
constexpr size_t kHeaderDataWriteGuid = 32;
constexpr size_t kHeaderLogGuid = 48;
constexpr size_t kHeaderLogVersion = 64;
constexpr size_t kHeaderVersion = 66;
constexpr size_t kHeaderLogLength = 68;
constexpr size_t kHeaderLogOffset = 72;
constexpr char kHeaderSignatureText[] = "head";

// [MS-VHDX] 2.2.3.1 Region Table Header and 2.2.3.2 entries.
constexpr size_t kRegionSignature = 0;  // "regi"
constexpr size_t kRegionChecksum = 4;
constexpr size_t kRegionEntryCount = 8;
constexpr size_t kRegionEntries = 16;
constexpr size_t kRegionEntrySize = 32;
constexpr char kRegionSignatureText[] = "regi";

constexpr char kFileSignature[] = "vhdxfile";  // [MS-VHDX] 2.2.1
constexpr size_t kCreatorOffset = 8;
constexpr size_t kCreatorBytes = 512;

uint32_t checksum(std::span<const uint8_t> bytes, size_t field) {
  std::vector<uint8_t> copy(bytes.begin(), bytes.end());
  std::memset(copy.data() + field, 0, 4);
  return crc32c(copy);
}

}  // namespace

Result<Header> parse_header(std::span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderSize) return make_error("VHDX header is truncated");
  const uint8_t* p = bytes.data();
  if (std::memcmp(p + kHeaderSignature, kHeaderSignatureText, 4) != 0) {
    return make_error("no 'head' signature");
  }
  const uint32_t stored = load_le<uint32_t>(p + kHeaderChecksum);
  const uint32_t computed = checksum(bytes.first(kHeaderSize), kHeaderChecksum);
  if (stored != computed) {
    return make_error("header checksum is {:#010x}, its CRC-32C is {:#010x}", stored, computed);
  }
  Header header;
  header.sequence_number = load_le<uint64_t>(p + kHeaderSequence);
  header.file_write_guid = Guid::load_ms(p + kHeaderFileWriteGuid);
  header.data_write_guid = Guid::load_ms(p + kHeaderDataWriteGuid);
  header.log_guid = Guid::load_ms(p + kHeaderLogGuid);
  header.log_version = load_le<uint16_t>(p + kHeaderLogVersion);
  header.version = load_le<uint16_t>(p + kHeaderVersion);
  header.log_length = load_le<uint32_t>(p + kHeaderLogLength);
  header.log_offset = load_le<uint64_t>(p + kHeaderLogOffset);
  if (header.version != 1) return make_error("header version {} is not 1", header.version);
  if (header.log_version != 0) {
    return make_error("log version {} is not supported (only 0)", header.log_version);
  }
  if (header.log_length == 0 || header.log_length % kAlignment != 0 ||
      header.log_offset % kAlignment != 0 || header.log_offset < kHeaderSectionSize) {
    return make_error(
        "log at {:#x} of {:#x} bytes is not on 1 MiB boundaries after the header "
        "section",
        header.log_offset, header.log_length);
  }
  return header;
}

std::array<uint8_t, kHeaderSize> serialize_header(const Header& header) {
  std::array<uint8_t, kHeaderSize> bytes{};
  uint8_t* p = bytes.data();
  std::memcpy(p + kHeaderSignature, kHeaderSignatureText, 4);
  store_le<uint64_t>(p + kHeaderSequence, header.sequence_number);
  header.file_write_guid.store_ms(p + kHeaderFileWriteGuid);
  header.data_write_guid.store_ms(p + kHeaderDataWriteGuid);
  header.log_guid.store_ms(p + kHeaderLogGuid);
  store_le<uint16_t>(p + kHeaderLogVersion, header.log_version);
  store_le<uint16_t>(p + kHeaderVersion, header.version);
  store_le<uint32_t>(p + kHeaderLogLength, header.log_length);
  store_le<uint64_t>(p + kHeaderLogOffset, header.log_offset);
  store_le<uint32_t>(p + kHeaderChecksum, crc32c(bytes));
  return bytes;
}

Result<std::vector<RegionEntry>> parse_region_table(std::span<const uint8_t> bytes) {
  if (bytes.size() < kRegionTableSize) return make_error("region table is truncated");
  const uint8_t* p = bytes.data();
  if (std::memcmp(p + kRegionSignature, kRegionSignatureText, 4) != 0) {
    return make_error("no 'regi' signature");
  }
  const uint32_t stored = load_le<uint32_t>(p + kRegionChecksum);
  const uint32_t computed = checksum(bytes.first(kRegionTableSize), kRegionChecksum);
  if (stored != computed) {
    return make_error("region table checksum is {:#010x}, its CRC-32C is {:#010x}", stored,
                      computed);
  }
  const uint32_t count = load_le<uint32_t>(p + kRegionEntryCount);
  if (count > kMaxRegionEntries) {
    return make_error("region table has {} entries, more than {}", count, kMaxRegionEntries);
  }
  std::vector<RegionEntry> entries(count);
  for (uint32_t i = 0; i < count; ++i) {
    const uint8_t* entry = p + kRegionEntries + i * kRegionEntrySize;
    entries[i].guid = Guid::load_ms(entry);
    entries[i].file_offset = load_le<uint64_t>(entry + 16);
    entries[i].length = load_le<uint32_t>(entry + 24);
    entries[i].required = (load_le<uint32_t>(entry + 28) & 1) != 0;
  }
  return entries;
}

std::vector<uint8_t> serialize_region_table(const std::vector<RegionEntry>& entries) {
  std::vector<uint8_t> bytes(kRegionTableSize, 0);
  uint8_t* p = bytes.data();
  std::memcpy(p + kRegionSignature, kRegionSignatureText, 4);
  store_le<uint32_t>(p + kRegionEntryCount, static_cast<uint32_t>(entries.size()));
  for (size_t i = 0; i < entries.size(); ++i) {
    uint8_t* entry = p + kRegionEntries + i * kRegionEntrySize;
    entries[i].guid.store_ms(entry);
    store_le<uint64_t>(entry + 16, entries[i].file_offset);
    store_le<uint32_t>(entry + 24, entries[i].length);
    store_le<uint32_t>(entry + 28, entries[i].required ? 1 : 0);
  }
  store_le<uint32_t>(p + kRegionChecksum, crc32c(bytes));
  return bytes;
}

bool has_file_identifier(std::span<const uint8_t> bytes) {
  return bytes.size() >= 8 && std::memcmp(bytes.data(), kFileSignature, 8) == 0;
}

std::vector<uint8_t> serialize_file_identifier(const std::string& creator) {
  std::vector<uint8_t> bytes(64 * kKiB, 0);
  std::memcpy(bytes.data(), kFileSignature, 8);
  auto encoded = utf8_to_utf16(creator, ByteOrder::kLittle);
  if (encoded) {
    std::memcpy(bytes.data() + kCreatorOffset, encoded->data(),
                std::min(encoded->size(), kCreatorBytes - 2));
  }
  return bytes;
}

std::string file_creator(std::span<const uint8_t> bytes) {
  if (bytes.size() < kCreatorOffset + kCreatorBytes) return "";
  auto creator = utf16_to_utf8(bytes.subspan(kCreatorOffset, kCreatorBytes), ByteOrder::kLittle);
  return creator ? *creator : "";
}

}  // namespace cella::block::vhdx
