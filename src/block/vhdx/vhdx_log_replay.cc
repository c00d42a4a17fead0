// Replaying the VHDX log ([MS-VHDX] 2.3.3) and writing it.
#include <algorithm>
#include <cstring>

#include "base/bits.h"
#include "base/crc32c.h"
#include "block/vhdx/vhdx_format.h"
#include "block/vhdx/vhdx_log.h"

namespace cella::block::vhdx {

namespace {

// Log entries may rewrite the region tables and everything after the header section, never
// the file identifier or the headers ([MS-VHDX] 2.2.2: headers are updated in place), nor the
// log itself.
Result<void> check_target(const LogRegion& log, const LogEntry& entry, uint64_t offset,
                          uint64_t length, uint64_t limit) {
  const bool in_headers = offset < kRegionTableOffsets[0];
  const bool in_log = offset < log.offset + log.length && offset + length > log.offset;
  if (in_headers || in_log || offset > limit || length > limit - offset) {
    return make_error(
        "log entry {} writes {} bytes at {:#x}, outside what a log may change; "
        "refusing to replay it",
        entry.sequence, length, offset);
  }
  return ok();
}

}  // namespace

Result<LogOverlay> LogOverlay::build(const HostFile& file, const LogRegion& log,
                                     const std::vector<LogEntry>& sequence) {
  LogOverlay overlay;
  if (sequence.empty()) return overlay;
  const LogEntry& head = sequence.back();
  CELLA_TRY_ASSIGN(file_size, file.size());
  // [MS-VHDX] 2.3.1.1 FlushedFileOffset: the file was at least this long when the entry was
  // written; a shorter file lost data.
  if (file_size < head.flushed_file_offset) {
    return make_error("the file is {} bytes but its log says it had {}: it was truncated",
                      file_size, head.flushed_file_offset);
  }
  const uint64_t limit = std::max(file_size, head.last_file_offset);
  for (const LogEntry& entry : sequence) {
    for (const LogDescriptor& descriptor : entry.descriptors) {
      if (descriptor.zero) {
        CELLA_TRY(check_target(log, entry, descriptor.file_offset, descriptor.zero_length, limit));
        overlay.zeros_.add(descriptor.file_offset, descriptor.zero_length);
        auto it = overlay.pages_.lower_bound(descriptor.file_offset);
        while (it != overlay.pages_.end() &&
               it->first < descriptor.file_offset + descriptor.zero_length) {
          it = overlay.pages_.erase(it);
        }
        continue;
      }
      CELLA_TRY(check_target(log, entry, descriptor.file_offset, kLogSector, limit));
      std::array<uint8_t, kLogSector> page{};
      const uint64_t sector =
          log.offset + (entry.position + descriptor.data_sector * kLogSector) % log.length;
      CELLA_TRY(file.read(sector, page));
      // [MS-VHDX] 2.3.1.3: the page is LeadingBytes, the sector's 4084 data bytes, TrailingBytes.
      std::memcpy(page.data(), descriptor.leading_bytes, 8);
      std::memcpy(page.data() + 4092, descriptor.trailing_bytes, 4);
      overlay.pages_[descriptor.file_offset] = page;
      overlay.zeros_.remove(descriptor.file_offset, kLogSector);
    }
  }
  overlay.file_size_ = std::max(file_size, head.last_file_offset);
  overlay.entries_ = sequence.size();
  return overlay;
}

void LogOverlay::apply(uint64_t offset, std::span<uint8_t> bytes) const {
  const uint64_t end = offset + bytes.size();
  auto zero = zeros_.ranges().upper_bound(offset);
  if (zero != zeros_.ranges().begin()) --zero;
  for (; zero != zeros_.ranges().end() && zero->first < end; ++zero) {
    const uint64_t from = std::max(offset, zero->first), to = std::min(end, zero->second);
    if (from < to) std::memset(bytes.data() + (from - offset), 0, to - from);
  }
  for (auto page = pages_.lower_bound(align_down(offset, kLogSector));
       page != pages_.end() && page->first < end; ++page) {
    const uint64_t from = std::max(offset, page->first);
    const uint64_t to = std::min(end, page->first + kLogSector);
    if (from < to)
      std::memcpy(bytes.data() + (from - offset), page->second.data() + (from - page->first),
                  to - from);
  }
}

Result<void> LogOverlay::write_to(HostFile& file) const {
  for (const auto& [begin, end] : zeros_.ranges()) CELLA_TRY(file.punch_hole(begin, end - begin));
  for (const auto& [offset, page] : pages_) CELLA_TRY(file.write(offset, page));
  CELLA_TRY_ASSIGN(size, file.size());
  if (size < file_size_) CELLA_TRY(file.truncate(file_size_));
  return file.flush();
}

Result<void> LogWriter::write(HostFile& file, const std::vector<PageUpdate>& pages,
                              uint64_t file_size) {
  // An entry is one header sector with up to 126 descriptors, then one data sector per page,
  // and must fit in the log.
  const uint64_t per_entry = std::min<uint64_t>(126, log_.length / kLogSector - 1);
  for (size_t done = 0; done < pages.size(); done += per_entry) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(per_entry, pages.size() - done));
    CELLA_TRY(write_entry(file, std::span(pages).subspan(done, n), file_size));
  }
  return ok();
}

Result<void> LogWriter::write_entry(HostFile& file, std::span<const PageUpdate> pages,
                                    uint64_t file_size) {
  // Whatever was applied in place before is made durable before the log moves on: the new
  // entry is the whole active sequence (its Tail is itself).
  CELLA_TRY(file.flush());
  const uint64_t sectors = 1 + pages.size();
  std::vector<uint8_t> entry(sectors * kLogSector, 0);
  uint8_t* h = entry.data();
  std::memcpy(h, "loge", 4);  // [MS-VHDX] 2.3.1.1
  store_le<uint32_t>(h + 8, static_cast<uint32_t>(entry.size()));
  store_le<uint32_t>(h + 12, static_cast<uint32_t>(position_));
  store_le<uint64_t>(h + 16, sequence_);
  store_le<uint32_t>(h + 24, static_cast<uint32_t>(pages.size()));
  log_.guid.store_ms(h + 32);
  // [MS-VHDX] 2.3.1.1: FlushedFileOffset, a length the file (just flushed) has at least, and
  // LastFileOffset, a length that holds every structure; both multiples of 1 MiB.
  CELLA_TRY_ASSIGN(flushed_size, file.size());
  store_le<uint64_t>(h + 48, align_down(flushed_size, kAlignment));
  store_le<uint64_t>(h + 56, align_up(file_size, kAlignment));
  for (size_t i = 0; i < pages.size(); ++i) {
    uint8_t* d = h + 64 + i * 32;  // [MS-VHDX] 2.3.1.3 Data Descriptor
    std::memcpy(d, "desc", 4);
    std::memcpy(d + 4, pages[i].bytes.data() + 4092, 4);
    std::memcpy(d + 8, pages[i].bytes.data(), 8);
    store_le<uint64_t>(d + 16, pages[i].file_offset);
    store_le<uint64_t>(d + 24, sequence_);
    uint8_t* s = entry.data() + (1 + i) * kLogSector;  // [MS-VHDX] 2.3.1.4 Data Sector
    std::memcpy(s, "data", 4);
    store_le<uint32_t>(s + 4, static_cast<uint32_t>(sequence_ >> 32));
    std::memcpy(s + 8, pages[i].bytes.data() + 8, 4084);
    store_le<uint32_t>(s + 4092, static_cast<uint32_t>(sequence_));
  }
  store_le<uint32_t>(h + 4, crc32c(entry));
  // The entry may wrap around the end of the circular log.
  const uint64_t first = std::min<uint64_t>(entry.size(), log_.length - position_);
  CELLA_TRY(file.write(log_.offset + position_, std::span<const uint8_t>(entry).first(first)));
  if (first < entry.size()) {
    CELLA_TRY(file.write(log_.offset, std::span<const uint8_t>(entry).subspan(first)));
  }
  CELLA_TRY(file.flush());
  position_ = (position_ + entry.size()) % log_.length;
  ++sequence_;
  for (const PageUpdate& page : pages) CELLA_TRY(file.write(page.file_offset, page.bytes));
  return ok();
}

}  // namespace cella::block::vhdx
