// The VHDX metadata log ([MS-VHDX] 2.3): a circular buffer of entries, each a set of 4 KiB
// page updates (data descriptors) and zeroed ranges (zero descriptors). Every metadata change
// Cella makes goes through it, and an image whose log holds an active sequence is replayed
// before use.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "base/result.h"
#include "block/file_space.h"
#include "block/guid.h"
#include "block/host_file.h"

namespace cella::block::vhdx {

inline constexpr uint64_t kLogSector = 4096;  // [MS-VHDX] 2.3.1: log sectors are 4 KiB
// The most descriptors Cella accepts in one entry (each describes up to 4 KiB, or a zeroed
// range): a bound on memory for hostile logs, far above what an implementation writes.
inline constexpr uint32_t kMaxLogDescriptors = 1 << 20;

struct LogRegion {
  uint64_t offset = 0;  // in the file
  uint64_t length = 0;
  Guid guid;  // the header's LogGuid: only entries carrying it are valid
};

// [MS-VHDX] 2.3.1.2 Zero Descriptor and 2.3.1.3 Data Descriptor.
struct LogDescriptor {
  bool zero = false;
  uint64_t file_offset = 0;
  uint64_t zero_length = 0;        // zero descriptors
  uint8_t leading_bytes[8] = {};   // data descriptors: bytes 0-7 of the page
  uint8_t trailing_bytes[4] = {};  // ... and bytes 4092-4095
  uint64_t data_sector = 0;        // ... the log sector holding bytes 8-4091
};

// [MS-VHDX] 2.3.1.1 Entry Header, validated.
struct LogEntry {
  uint64_t position = 0;  // byte offset in the log
  uint64_t length = 0;
  uint64_t tail = 0;
  uint64_t sequence = 0;
  uint64_t flushed_file_offset = 0;
  uint64_t last_file_offset = 0;
  std::vector<LogDescriptor> descriptors;
};

// The entry at `position` if it is valid (signature, LogGuid, lengths, descriptors, data
// sector sequence numbers and checksum), std::nullopt if not; errors are I/O errors only.
Result<std::optional<LogEntry>> read_log_entry(const HostFile& file, const LogRegion& log,
                                               uint64_t position);

// [MS-VHDX] 2.3.3: the active sequence, oldest entry first: among the valid entries, the one
// with the highest sequence number whose Tail starts a chain of valid entries, each following
// the previous in the buffer with the next sequence number, that ends with it. Empty when the
// log holds nothing to replay.
Result<std::vector<LogEntry>> find_active_sequence(const HostFile& file, const LogRegion& log);

// What the file holds once a sequence is replayed, kept in memory: the pages the data
// descriptors write and the ranges the zero descriptors clear, later entries over earlier ones.
// Building it refuses a file shorter than the head's FlushedFileOffset (truncated) and
// descriptors that point into the file identifier, the headers or the log.
class LogOverlay {
 public:
  static Result<LogOverlay> build(const HostFile& file, const LogRegion& log,
                                  const std::vector<LogEntry>& sequence);
  bool empty() const { return entries_ == 0; }
  size_t entries() const { return entries_; }
  // The file's length after the replay: at least the head's LastFileOffset.
  uint64_t file_size() const { return file_size_; }
  // Patches bytes read from the file at `offset` with what the log changes there.
  void apply(uint64_t offset, std::span<uint8_t> bytes) const;
  // Applies the overlay to the file for good, then flushes ([MS-VHDX] 2.3.3 replay).
  Result<void> write_to(HostFile& file) const;

 private:
  std::map<uint64_t, std::array<uint8_t, kLogSector>> pages_;
  FreeSpace zeros_;
  uint64_t file_size_ = 0;
  size_t entries_ = 0;
};

// One 4 KiB page of metadata to change, at a 4 KiB-aligned file offset.
struct PageUpdate {
  uint64_t file_offset = 0;
  std::array<uint8_t, kLogSector> bytes{};
};

// Writes log entries for a set of page updates: flush (earlier changes are durable before the
// log moves on), write the entry, flush, then write the pages in place. A crash at any point
// leaves either the old pages or an entry that replays to the new ones.
class LogWriter {
 public:
  void start(const LogRegion& log) {
    log_ = log;
    sequence_ = 1;
    position_ = 0;
  }
  // `file_size`: the length that holds every structure once the pages are applied.
  Result<void> write(HostFile& file, const std::vector<PageUpdate>& pages, uint64_t file_size);

 private:
  Result<void> write_entry(HostFile& file, std::span<const PageUpdate> pages, uint64_t file_size);

  LogRegion log_;
  uint64_t sequence_ = 1;
  uint64_t position_ = 0;
};

}  // namespace cella::block::vhdx
