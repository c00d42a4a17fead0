// Reading and validating VHDX log entries ([MS-VHDX] 2.3.1).
#include <algorithm>
#include <cstring>
#include <map>

#include "base/bits.h"
#include "base/crc32c.h"
#include "block/vhdx/vhdx_log.h"

namespace cella::block::vhdx {

namespace {

// [MS-VHDX] 2.3.1.1 Entry Header fields.
constexpr size_t kEntrySignature = 0;  // "loge"
constexpr size_t kEntryChecksum = 4;
constexpr size_t kEntryLength = 8;
constexpr size_t kEntryTail = 12;
constexpr size_t kEntrySequence = 16;
constexpr size_t kEntryDescriptorCount = 24;
constexpr size_t kEntryLogGuid = 32;
constexpr size_t kEntryFlushedFileOffset = 48;
constexpr size_t kEntryLastFileOffset = 56;
constexpr size_t kEntryHeaderSize = 64;
constexpr size_t kDescriptorSize = 32;

const std::optional<LogEntry> kInvalid;  // not an entry: torn, stale or foreign

uint64_t descriptor_sectors(uint64_t count) {
  return (kEntryHeaderSize + count * kDescriptorSize + kLogSector - 1) / kLogSector;
}

}  // namespace

Result<std::optional<LogEntry>> read_log_entry(const HostFile& file, const LogRegion& log,
                                               uint64_t position) {
  auto sector_at = [&](uint64_t index) {
    return log.offset + (position + index * kLogSector) % log.length;
  };
  std::array<uint8_t, kLogSector> first{};
  CELLA_TRY(file.read_zero_filled(sector_at(0), first));
  const uint8_t* h = first.data();
  if (std::memcmp(h + kEntrySignature, "loge", 4) != 0) return kInvalid;
  LogEntry entry;
  entry.position = position;
  entry.length = load_le<uint32_t>(h + kEntryLength);
  entry.tail = load_le<uint32_t>(h + kEntryTail);
  entry.sequence = load_le<uint64_t>(h + kEntrySequence);
  const uint32_t count = load_le<uint32_t>(h + kEntryDescriptorCount);
  entry.flushed_file_offset = load_le<uint64_t>(h + kEntryFlushedFileOffset);
  entry.last_file_offset = load_le<uint64_t>(h + kEntryLastFileOffset);
  if (Guid::load_ms(h + kEntryLogGuid) != log.guid) return kInvalid;
  if (entry.length == 0 || entry.length % kLogSector != 0 || entry.length > log.length ||
      entry.tail % kLogSector != 0 || entry.tail >= log.length || count > kMaxLogDescriptors) {
    return kInvalid;
  }
  const uint64_t sectors = entry.length / kLogSector;
  const uint64_t header_sectors = descriptor_sectors(count);
  if (header_sectors > sectors) return kInvalid;

  // The descriptor sectors, kept; the data sectors, checked and summed but not kept.
  std::vector<uint8_t> header(header_sectors * kLogSector);
  std::memcpy(header.data(), first.data(), kLogSector);
  for (uint64_t i = 1; i < header_sectors; ++i) {
    CELLA_TRY(
        file.read_zero_filled(sector_at(i), std::span(header).subspan(i * kLogSector, kLogSector)));
  }
  std::memset(header.data() + kEntryChecksum, 0, 4);
  uint32_t crc = crc32c(header);
  uint64_t data_sector = header_sectors;
  entry.descriptors.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const uint8_t* d = header.data() + kEntryHeaderSize + i * kDescriptorSize;
    LogDescriptor descriptor;
    if (std::memcmp(d, "zero", 4) == 0) {  // [MS-VHDX] 2.3.1.2
      descriptor.zero = true;
      descriptor.zero_length = load_le<uint64_t>(d + 8);
      descriptor.file_offset = load_le<uint64_t>(d + 16);
      if (descriptor.zero_length % kLogSector != 0) return kInvalid;
    } else if (std::memcmp(d, "desc", 4) == 0) {  // [MS-VHDX] 2.3.1.3
      std::memcpy(descriptor.trailing_bytes, d + 4, 4);
      std::memcpy(descriptor.leading_bytes, d + 8, 8);
      descriptor.file_offset = load_le<uint64_t>(d + 16);
      descriptor.data_sector = data_sector++;
    } else {
      return kInvalid;
    }
    if (load_le<uint64_t>(d + 24) != entry.sequence || descriptor.file_offset % kLogSector != 0) {
      return kInvalid;
    }
    entry.descriptors.push_back(descriptor);
  }
  if (data_sector != sectors) return kInvalid;  // EntryLength covers exactly the entry
  // [MS-VHDX] 2.3.1.4 Data Sector: "data", then the sequence number split around the data.
  std::array<uint8_t, kLogSector> sector{};
  for (uint64_t i = header_sectors; i < sectors; ++i) {
    CELLA_TRY(file.read_zero_filled(sector_at(i), sector));
    if (std::memcmp(sector.data(), "data", 4) != 0 ||
        load_le<uint32_t>(sector.data() + 4) != static_cast<uint32_t>(entry.sequence >> 32) ||
        load_le<uint32_t>(sector.data() + 4092) != static_cast<uint32_t>(entry.sequence)) {
      return kInvalid;
    }
    crc = crc32c(sector, crc);
  }
  if (crc != load_le<uint32_t>(h + kEntryChecksum)) return kInvalid;
  return std::optional<LogEntry>(std::move(entry));
}

Result<std::vector<LogEntry>> find_active_sequence(const HostFile& file, const LogRegion& log) {
  if (log.guid.is_zero()) return std::vector<LogEntry>{};
  std::map<uint64_t, LogEntry> valid;  // by position
  for (uint64_t position = 0; position < log.length; position += kLogSector) {
    CELLA_TRY_ASSIGN(entry, read_log_entry(file, log, position));
    if (entry) valid.emplace(position, std::move(*entry));
  }
  std::vector<const LogEntry*> heads;
  for (const auto& [position, entry] : valid) heads.push_back(&entry);
  std::sort(heads.begin(), heads.end(),
            [](const LogEntry* a, const LogEntry* b) { return a->sequence > b->sequence; });
  for (const LogEntry* head : heads) {
    std::vector<LogEntry> chain;
    auto it = valid.find(head->tail);
    while (it != valid.end() && chain.size() <= valid.size()) {
      const LogEntry& entry = it->second;
      if (!chain.empty() && entry.sequence != chain.back().sequence + 1) break;
      if (entry.sequence > head->sequence) break;
      chain.push_back(entry);
      if (entry.position == head->position) return chain;
      it = valid.find((entry.position + entry.length) % log.length);
    }
  }
  return std::vector<LogEntry>{};
}

}  // namespace cella::block::vhdx
