// RAII file descriptor and whole-file helpers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace cella {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

Result<UniqueFd> open_file(const std::string& path, int flags, int mode = 0644);
Result<std::vector<uint8_t>> read_file(const std::string& path);
// Reads exactly size bytes at offset, retrying on EINTR and short reads; a read past the end
// of the file is an error.
Result<void> pread_exact(int fd, void* buffer, size_t size, uint64_t offset);
Result<void> pwrite_exact(int fd, const void* buffer, size_t size, uint64_t offset);

}  // namespace cella
