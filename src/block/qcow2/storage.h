// The image's host file as the qcow2 layers use it: positional I/O that remembers whether
// anything was written since the last durability barrier, so barriers cost nothing when idle.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>

#include "base/result.h"
#include "block/host_file.h"

namespace cella::block::qcow2 {

class Storage {
 public:
  explicit Storage(HostFile& file) : file_(file) {}

  HostFile& file() { return file_; }
  const HostFile& file() const { return file_; }

  Result<void> read(uint64_t offset, std::span<uint8_t> out) const {
    return file_.read(offset, out);
  }
  // Reads what the file holds and zeros past its end (a data cluster may end past it).
  Result<void> read_zero_filled(uint64_t offset, std::span<uint8_t> out) const {
    return file_.read_zero_filled(offset, out);
  }
  Result<void> write(uint64_t offset, std::span<const uint8_t> data) {
    unsynced_ = true;
    CELLA_TRY(file_.write(offset, data));
    if (end_known_) end_ = std::max(end_, offset + data.size());
    return ok();
  }
  // The size of the file, tracked across this object's writes.
  Result<uint64_t> end() {
    if (!end_known_) {
      CELLA_TRY_ASSIGN(size, file_.size());
      end_ = size;
      end_known_ = true;
    }
    return end_;
  }
  // Everything written so far is durable when this returns (fdatasync, skipped when idle).
  Result<void> barrier() {
    if (!unsynced_) return ok();
    CELLA_TRY(file_.flush());
    unsynced_ = false;
    return ok();
  }
  void note_write() { unsynced_ = true; }

 private:
  HostFile& file_;
  bool unsynced_ = false;
  uint64_t end_ = 0;
  bool end_known_ = false;
};

}  // namespace cella::block::qcow2
