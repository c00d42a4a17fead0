#include "base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace cella {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Result<UniqueFd> open_file(const std::string& path, int flags, int mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return errno_error(path);
  return UniqueFd(fd);
}

Result<std::vector<uint8_t>> read_file(const std::string& path) {
  CELLA_TRY_ASSIGN(fd, open_file(path, O_RDONLY));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return errno_error(path);
  std::vector<uint8_t> data(static_cast<size_t>(st.st_size));
  CELLA_TRY(pread_exact(fd.get(), data.data(), data.size(), 0));
  return data;
}

Result<void> pread_exact(int fd, void* buffer, size_t size, uint64_t offset) {
  auto* out = static_cast<uint8_t*>(buffer);
  while (size > 0) {
    ssize_t n = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("read");
    }
    if (n == 0) return make_error("read past the end of the file at offset {}", offset);
    out += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return ok();
}

Result<void> pwrite_exact(int fd, const void* buffer, size_t size, uint64_t offset) {
  const auto* in = static_cast<const uint8_t*>(buffer);
  while (size > 0) {
    ssize_t n = ::pwrite(fd, in, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("write");
    }
    in += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return ok();
}

}  // namespace cella
