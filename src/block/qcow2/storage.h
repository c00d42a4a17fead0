// The image's host file as the qcow2 layers use it: positional I/O that remembers whether
// anything was written since the last durability barrier, so barriers cost nothing when idle.
#pragma once

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
    return file_.write(offset, data);
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
};

}  // namespace cella::block::qcow2
