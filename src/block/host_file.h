// HostFile: the host file under an image, with the operations formats need (exact positional
// I/O, durability, holes) and an advisory lock so that two writers never share one image.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "base/file.h"
#include "base/result.h"

namespace cella::block {

// kReadOnlyUnlocked takes no lock at all (`-U`/`--force-share`): it can read an image another
// process is writing, at the risk of seeing it mid-update.
enum class Access { kReadOnly, kReadWrite, kReadOnlyUnlocked };

class HostFile {
 public:
  // Opens an existing file. A read-write open takes an exclusive lock, a read-only open a
  // shared one (open file description locks, as qemu does): an image in use by a writer
  // cannot be opened for writing again.
  static Result<HostFile> open(const std::string& path, Access access);
  // Creates (or truncates) a file for a new image, locked for writing.
  static Result<HostFile> create(const std::string& path);

  const std::string& path() const { return path_; }
  bool writable() const { return access_ == Access::kReadWrite; }
  int fd() const { return fd_.get(); }

  Result<uint64_t> size() const;
  Result<void> read(uint64_t offset, std::span<uint8_t> out) const;  // short read is an error
  // Reads what exists at offset (up to out.size() bytes), zero-filling past end of file.
  Result<void> read_zero_filled(uint64_t offset, std::span<uint8_t> out) const;
  Result<void> write(uint64_t offset, std::span<const uint8_t> data);
  Result<void> flush();  // fdatasync
  Result<void> truncate(uint64_t size);
  Result<void> punch_hole(uint64_t offset, uint64_t length);  // keeps the size; reads as zero
  // Makes a range read as zeros keeping it allocated (FALLOC_FL_ZERO_RANGE), writing zeros on
  // file systems without it. Keeps the size.
  Result<void> zero_range(uint64_t offset, uint64_t length);
  Result<void> allocate(uint64_t offset, uint64_t length);  // fallocate, growing the file
  // Next data / hole at or after offset (SEEK_DATA/SEEK_HOLE), for sparse-aware mapping.
  // Returns the file size when there is none. Files that cannot report holes (block
  // devices) are all data.
  Result<uint64_t> next_data(uint64_t offset) const;
  Result<uint64_t> next_hole(uint64_t offset) const;
  // Disk space actually used, in bytes (st_blocks * 512).
  Result<uint64_t> allocated_bytes() const;

 private:
  Result<void> require_writable() const;
  Result<void> write_zeros(uint64_t offset, uint64_t length);

  HostFile(UniqueFd fd, std::string path, Access access)
      : fd_(std::move(fd)), path_(std::move(path)), access_(access) {}

  UniqueFd fd_;
  std::string path_;
  Access access_;
};

}  // namespace cella::block
