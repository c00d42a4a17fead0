// Replaying the VHDX log ([MS-VHDX] 2.3.3), into the file or in memory.
#include <algorithm>
#include <cstring>

#include "base/bits.h"
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

}  // namespace cella::block::vhdx
