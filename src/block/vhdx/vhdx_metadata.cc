#include "block/vhdx/vhdx_metadata.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "base/bits.h"
#include "base/utf16.h"
#include "block/file_space.h"

namespace cella::block::vhdx {

namespace {

constexpr char kTableSignature[] = "metadata";  // [MS-VHDX] 2.6.1.1
constexpr size_t kTableEntryCount = 10;
constexpr size_t kTableEntries = 32;
constexpr size_t kTableEntrySize = 32;
constexpr uint32_t kFlagIsUser = 1, kFlagIsVirtualDisk = 2, kFlagIsRequired = 4;
constexpr size_t kLocatorHeaderSize = 20;  // [MS-VHDX] 2.6.2.6.1
constexpr size_t kLocatorEntrySize = 12;   // [MS-VHDX] 2.6.2.6.2

// The items Cella reads, with the size their value has ([MS-VHDX] 2.6.2.1 - 2.6.2.6).
struct KnownItem {
  Guid id;
  const char* name;
  uint32_t length;  // 0: variable
};
constexpr KnownItem kKnownItems[] = {
    {kFileParametersItem, "file parameters", 8},
    {kVirtualDiskSizeItem, "virtual disk size", 8},
    {kVirtualDiskIdItem, "virtual disk id", 16},
    {kLogicalSectorSizeItem, "logical sector size", 4},
    {kPhysicalSectorSizeItem, "physical sector size", 4},
    {kParentLocatorItem, "parent locator", 0},
};

const KnownItem* known_item(const Guid& id) {
  for (const KnownItem& item : kKnownItems) {
    if (item.id == id) return &item;
  }
  return nullptr;
}

Result<std::vector<std::pair<std::string, std::string>>> decode_parent_locator(
    std::span<const uint8_t> item) {
  if (item.size() < kLocatorHeaderSize) return make_error("parent locator is truncated");
  const Guid type = Guid::load_ms(item.data());
  if (type != kVhdxParentLocatorType) {
    return make_error("parent locator type {} is not the VHDX one", type.to_string());
  }
  const uint16_t count = load_le<uint16_t>(item.data() + 18);
  if (kLocatorHeaderSize + uint64_t{count} * kLocatorEntrySize > item.size()) {
    return make_error("parent locator's {} entries do not fit in the item", count);
  }
  std::vector<std::pair<std::string, std::string>> entries;
  for (uint16_t i = 0; i < count; ++i) {
    const uint8_t* entry = item.data() + kLocatorHeaderSize + i * kLocatorEntrySize;
    const uint32_t key_offset = load_le<uint32_t>(entry);
    const uint32_t value_offset = load_le<uint32_t>(entry + 4);
    const uint16_t key_length = load_le<uint16_t>(entry + 8);
    const uint16_t value_length = load_le<uint16_t>(entry + 10);
    if (key_offset > item.size() || key_length > item.size() - key_offset ||
        value_offset > item.size() || value_length > item.size() - value_offset) {
      return make_error("parent locator entry {} points outside the item", i);
    }
    auto key = utf16_to_utf8(item.subspan(key_offset, key_length), ByteOrder::kLittle);
    auto value = utf16_to_utf8(item.subspan(value_offset, value_length), ByteOrder::kLittle);
    if (!key || !value) return make_error("parent locator entry {} is not valid UTF-16", i);
    entries.emplace_back(std::move(*key), std::move(*value));
  }
  return entries;
}

}  // namespace

Result<std::vector<MetadataEntry>> parse_metadata_table(std::span<const uint8_t> table) {
  if (table.size() < kMetadataTableSize) return make_error("metadata table is truncated");
  if (std::memcmp(table.data(), kTableSignature, 8) != 0) {
    return make_error("no 'metadata' signature at the start of the metadata region");
  }
  const uint16_t count = load_le<uint16_t>(table.data() + kTableEntryCount);
  if (count > kMaxMetadataEntries) {
    return make_error("metadata table has {} entries, more than {}", count, kMaxMetadataEntries);
  }
  std::vector<MetadataEntry> entries(count);
  for (uint16_t i = 0; i < count; ++i) {
    const uint8_t* p = table.data() + kTableEntries + i * kTableEntrySize;
    MetadataEntry& entry = entries[i];
    entry.item = Guid::load_ms(p);
    entry.offset = load_le<uint32_t>(p + 16);
    entry.length = load_le<uint32_t>(p + 20);
    const uint32_t flags = load_le<uint32_t>(p + 24);
    entry.is_user = flags & kFlagIsUser;
    entry.is_virtual_disk = flags & kFlagIsVirtualDisk;
    entry.is_required = flags & kFlagIsRequired;
  }
  return entries;
}

std::vector<uint8_t> serialize_metadata_table(const std::vector<MetadataEntry>& entries) {
  std::vector<uint8_t> table(kMetadataTableSize, 0);
  std::memcpy(table.data(), kTableSignature, 8);
  store_le<uint16_t>(table.data() + kTableEntryCount, static_cast<uint16_t>(entries.size()));
  for (size_t i = 0; i < entries.size(); ++i) {
    uint8_t* p = table.data() + kTableEntries + i * kTableEntrySize;
    entries[i].item.store_ms(p);
    store_le<uint32_t>(p + 16, entries[i].offset);
    store_le<uint32_t>(p + 20, entries[i].length);
    store_le<uint32_t>(p + 24, (entries[i].is_user ? kFlagIsUser : 0) |
                                   (entries[i].is_virtual_disk ? kFlagIsVirtualDisk : 0) |
                                   (entries[i].is_required ? kFlagIsRequired : 0));
  }
  return table;
}

Result<Metadata> decode_metadata(const std::vector<MetadataEntry>& entries, uint64_t region_length,
                                 const ItemReader& read) {
  Metadata metadata;
  std::vector<FileRange> ranges;
  std::vector<Guid> seen;
  for (const MetadataEntry& entry : entries) {
    const KnownItem* known = known_item(entry.item);
    const std::string name = known ? known->name : entry.item.to_string();
    if (std::find(seen.begin(), seen.end(), entry.item) != seen.end()) {
      return make_error("metadata item {} appears twice", name);
    }
    seen.push_back(entry.item);
    // [MS-VHDX] 2.6.1.2: Offset at least 64 KiB, Length at most 1 MiB, inside the region.
    if (entry.length > 0 &&
        (entry.offset < kMetadataTableSize || entry.length > kMaxMetadataItemLength ||
         entry.offset > region_length || entry.length > region_length - entry.offset)) {
      return make_error("metadata item {} ({} bytes at {:#x}) lies outside the metadata region",
                        name, entry.length, entry.offset);
    }
    ranges.push_back({entry.offset, entry.length, "metadata item " + name});
    if (known == nullptr) {
      if (entry.is_required) {
        return make_error("required metadata item {} is not supported", name);
      }
      continue;
    }
    if (known->length != 0 && entry.length != known->length) {
      return make_error("metadata item {} is {} bytes, not {}", name, entry.length, known->length);
    }
    CELLA_TRY_ASSIGN(bytes, read(entry.offset, entry.length));
    const uint8_t* p = bytes.data();
    if (entry.item == kFileParametersItem) {
      metadata.block_size = load_le<uint32_t>(p);
      const uint32_t flags = load_le<uint32_t>(p + 4);
      metadata.leave_blocks_allocated = flags & 1;
      metadata.has_parent = flags & 2;
    } else if (entry.item == kVirtualDiskSizeItem) {
      metadata.virtual_disk_size = load_le<uint64_t>(p);
    } else if (entry.item == kVirtualDiskIdItem) {
      metadata.virtual_disk_id = Guid::load_ms(p);
    } else if (entry.item == kLogicalSectorSizeItem) {
      metadata.logical_sector_size = load_le<uint32_t>(p);
    } else if (entry.item == kPhysicalSectorSizeItem) {
      metadata.physical_sector_size = load_le<uint32_t>(p);
    } else if (entry.item == kParentLocatorItem) {
      auto locator = decode_parent_locator(bytes);
      if (!locator) return locator.error();
      metadata.parent_locator = std::move(*locator);
    }
  }
  for (const Overlap& overlap : find_overlaps(ranges)) return make_error("{}", overlap.message());
  for (const Guid& required : {kFileParametersItem, kVirtualDiskSizeItem, kLogicalSectorSizeItem,
                               kPhysicalSectorSizeItem}) {
    if (std::find(seen.begin(), seen.end(), required) == seen.end()) {
      return make_error("metadata item {} is missing", known_item(required)->name);
    }
  }
  // [MS-VHDX] 2.6.2.1: BlockSize a power of two from 1 MiB to 256 MiB.
  if (metadata.block_size < kMinBlockSize || metadata.block_size > kMaxBlockSize ||
      !is_power_of_two(metadata.block_size)) {
    return make_error("block size {} is not a power of two from 1 MiB to 256 MiB",
                      metadata.block_size);
  }
  // [MS-VHDX] 2.6.2.4, 2.6.2.5: sector sizes are 512 or 4096.
  for (uint32_t size : {metadata.logical_sector_size, metadata.physical_sector_size}) {
    if (size != 512 && size != 4096) return make_error("sector size {} is not 512 or 4096", size);
  }
  // [MS-VHDX] 2.6.2.2: a multiple of the logical sector size, at most 64 TB.
  if (metadata.virtual_disk_size == 0 || metadata.virtual_disk_size > kMaxVirtualDiskSize ||
      metadata.virtual_disk_size % metadata.logical_sector_size != 0) {
    return make_error("virtual disk size {} is not a multiple of {} up to 64 TiB",
                      metadata.virtual_disk_size, metadata.logical_sector_size);
  }
  if (metadata.has_parent &&
      std::find(seen.begin(), seen.end(), kParentLocatorItem) == seen.end()) {
    return make_error("differencing image has no parent locator");
  }
  return metadata;
}

std::vector<uint8_t> encode_file_parameters(const Metadata& metadata) {
  std::vector<uint8_t> bytes(8, 0);
  store_le<uint32_t>(bytes.data(), metadata.block_size);
  store_le<uint32_t>(bytes.data() + 4,
                     (metadata.leave_blocks_allocated ? 1u : 0u) | (metadata.has_parent ? 2u : 0u));
  return bytes;
}

std::vector<uint8_t> encode_u64(uint64_t value) {
  std::vector<uint8_t> bytes(8);
  store_le<uint64_t>(bytes.data(), value);
  return bytes;
}

std::vector<uint8_t> encode_u32(uint32_t value) {
  std::vector<uint8_t> bytes(4);
  store_le<uint32_t>(bytes.data(), value);
  return bytes;
}

std::vector<uint8_t> encode_guid(const Guid& guid) {
  std::vector<uint8_t> bytes(16);
  guid.store_ms(bytes.data());
  return bytes;
}

Result<std::vector<uint8_t>> encode_parent_locator(
    const std::vector<std::pair<std::string, std::string>>& entries) {
  std::vector<uint8_t> bytes(kLocatorHeaderSize + entries.size() * kLocatorEntrySize, 0);
  kVhdxParentLocatorType.store_ms(bytes.data());
  store_le<uint16_t>(bytes.data() + 18, static_cast<uint16_t>(entries.size()));
  for (size_t i = 0; i < entries.size(); ++i) {
    CELLA_TRY_ASSIGN(key, utf8_to_utf16(entries[i].first, ByteOrder::kLittle));
    CELLA_TRY_ASSIGN(value, utf8_to_utf16(entries[i].second, ByteOrder::kLittle));
    if (key.size() > 0xFFFF || value.size() > 0xFFFF) {
      return make_error("parent locator entry '{}' is too long", entries[i].first);
    }
    uint8_t* entry = bytes.data() + kLocatorHeaderSize + i * kLocatorEntrySize;
    store_le<uint32_t>(entry, static_cast<uint32_t>(bytes.size()));
    store_le<uint16_t>(entry + 8, static_cast<uint16_t>(key.size()));
    bytes.insert(bytes.end(), key.begin(), key.end());
    entry = bytes.data() + kLocatorHeaderSize + i * kLocatorEntrySize;
    store_le<uint32_t>(entry + 4, static_cast<uint32_t>(bytes.size()));
    store_le<uint16_t>(entry + 10, static_cast<uint16_t>(value.size()));
    bytes.insert(bytes.end(), value.begin(), value.end());
  }
  return bytes;
}

std::optional<std::string> locator_value(const Metadata& metadata, std::string_view key) {
  for (const auto& [k, v] : metadata.parent_locator) {
    if (k == key) return v;
  }
  return std::nullopt;
}

}  // namespace cella::block::vhdx
