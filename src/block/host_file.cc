#include "block/host_file.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cella::block {

namespace {

Result<void> lock(int fd, const std::string& path, Access access) {
  struct flock request {};
  request.l_type = access == Access::kReadWrite ? F_WRLCK : F_RDLCK;
  request.l_whence = SEEK_SET;
  if (::fcntl(fd, F_OFD_SETLK, &request) == 0) return ok();
  if (errno == EAGAIN || errno == EACCES) {
    return make_error("{}: the image is in use by another process (failed to get a{} lock)", path,
                      access == Access::kReadWrite ? "n exclusive" : " shared");
  }
  return errno_error(path + ": lock");
}

}  // namespace

Result<HostFile> HostFile::open(const std::string& path, Access access) {
  // O_NONBLOCK: a FIFO named by a hostile image (as a backing file) must not block the open;
  // only regular files and block devices are images.
  const int flags = (access == Access::kReadWrite ? O_RDWR : O_RDONLY) | O_NONBLOCK;
  CELLA_TRY_ASSIGN(fd, open_file(path, flags));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return errno_error(path);
  if (S_ISDIR(st.st_mode)) return make_error("{}: is a directory", path);
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
    return make_error("{}: is not a regular file or a block device", path);
  }
  if (::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK) != 0) {
    return errno_error(path);
  }
  if (access != Access::kReadOnlyUnlocked) CELLA_TRY(lock(fd.get(), path, access));
  return HostFile(std::move(fd), path, access);
}

Result<HostFile> HostFile::create(const std::string& path) {
  CELLA_TRY_ASSIGN(fd, open_file(path, O_RDWR | O_CREAT));
  CELLA_TRY(lock(fd.get(), path, Access::kReadWrite));
  if (::ftruncate(fd.get(), 0) != 0) return errno_error(path + ": truncate");
  return HostFile(std::move(fd), path, Access::kReadWrite);
}

Result<uint64_t> HostFile::size() const {
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) return errno_error(path_);
  if (!S_ISBLK(st.st_mode)) return static_cast<uint64_t>(st.st_size);
  // A block device has no st_size: its end is where seeking to the end lands.
  const off_t end = ::lseek(fd_.get(), 0, SEEK_END);
  if (end < 0) return errno_error(path_ + ": size");
  return static_cast<uint64_t>(end);
}

Result<void> HostFile::read(uint64_t offset, std::span<uint8_t> out) const {
  auto result = pread_exact(fd_.get(), out.data(), out.size(), offset);
  if (!result) return result.error().context(path_);
  return ok();
}

Result<void> HostFile::read_zero_filled(uint64_t offset, std::span<uint8_t> out) const {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n =
        ::pread(fd_.get(), out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error(path_ + ": read");
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  std::memset(out.data() + done, 0, out.size() - done);
  return ok();
}

Result<void> HostFile::require_writable() const {
  if (!writable()) return make_error("{}: the image is open read-only", path_);
  return ok();
}

Result<void> HostFile::write(uint64_t offset, std::span<const uint8_t> data) {
  CELLA_TRY(require_writable());
  auto result = pwrite_exact(fd_.get(), data.data(), data.size(), offset);
  if (!result) return result.error().context(path_);
  return ok();
}

Result<void> HostFile::flush() {
  if (!writable()) return ok();
  if (::fdatasync(fd_.get()) != 0) return errno_error(path_ + ": flush");
  return ok();
}

Result<void> HostFile::truncate(uint64_t new_size) {
  CELLA_TRY(require_writable());
  if (::ftruncate(fd_.get(), static_cast<off_t>(new_size)) != 0) {
    struct stat st {};
    if (::fstat(fd_.get(), &st) == 0 && S_ISBLK(st.st_mode)) {
      return make_error("{}: a block device cannot be resized", path_);
    }
    return errno_error(path_ + ": truncate");
  }
  return ok();
}

Result<void> HostFile::punch_hole(uint64_t offset, uint64_t length) {
  CELLA_TRY(require_writable());
  if (::fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                  static_cast<off_t>(length)) == 0) {
    return ok();
  }
  if (errno == EOPNOTSUPP) return write_zeros(offset, length);  // file system without holes
  return errno_error(path_ + ": punch hole");
}

Result<void> HostFile::zero_range(uint64_t offset, uint64_t length) {
  CELLA_TRY(require_writable());
  if (::fallocate(fd_.get(), FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                  static_cast<off_t>(length)) == 0) {
    return ok();
  }
  if (errno == EOPNOTSUPP) return write_zeros(offset, length);
  return errno_error(path_ + ": zero range");
}

Result<void> HostFile::write_zeros(uint64_t offset, uint64_t length) {
  static const uint8_t kZeros[65536] = {};
  while (length > 0) {
    const size_t n = length < sizeof(kZeros) ? static_cast<size_t>(length) : sizeof(kZeros);
    CELLA_TRY(write(offset, std::span<const uint8_t>(kZeros, n)));
    offset += n;
    length -= n;
  }
  return ok();
}

Result<void> HostFile::allocate(uint64_t offset, uint64_t length) {
  CELLA_TRY(require_writable());
  int rc = ::posix_fallocate(fd_.get(), static_cast<off_t>(offset), static_cast<off_t>(length));
  if (rc != 0) return make_error("{}: allocate: {}", path_, std::strerror(rc));
  return ok();
}

Result<uint64_t> HostFile::next_data(uint64_t offset) const {
  off_t at = ::lseek(fd_.get(), static_cast<off_t>(offset), SEEK_DATA);
  if (at < 0) {
    if (errno == ENXIO) return size();
    if (errno == EINVAL) return offset;  // no hole reporting (block devices): all data
    return errno_error(path_ + ": seek data");
  }
  return static_cast<uint64_t>(at);
}

Result<uint64_t> HostFile::next_hole(uint64_t offset) const {
  off_t at = ::lseek(fd_.get(), static_cast<off_t>(offset), SEEK_HOLE);
  if (at < 0) {
    if (errno == ENXIO || errno == EINVAL) return size();
    return errno_error(path_ + ": seek hole");
  }
  return static_cast<uint64_t>(at);
}

Result<uint64_t> HostFile::allocated_bytes() const {
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) return errno_error(path_);
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

}  // namespace cella::block
