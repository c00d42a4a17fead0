// Writing VHDX log entries ([MS-VHDX] 2.3.1) for Cella's own metadata changes.
#include <algorithm>
#include <cstring>

#include "base/bits.h"
#include "base/crc32c.h"
#include "block/vhdx/vhdx_format.h"
#include "block/vhdx/vhdx_log.h"

namespace cella::block::vhdx {

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
