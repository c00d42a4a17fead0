// Fuzzes the qcow2 driver with hostile images: each input is written to a fresh file, opened
// read-only (info, map, reads, check), then read-write (writes, zeroes, discards, a compressed
// write, resize, flush, repair, reads). Every error must be a clean Result, never a crash, hang
// or unbounded allocation.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "block/format_registry.h"

namespace {

using cella::block::BlockImage;
using cella::block::OpenOptions;

// Work bounds per input: hostile headers claim huge disks.
constexpr uint64_t kMaxMapBytes = 256ull << 20;
constexpr size_t kReadBytes = 256 << 10;

// One scratch file per process (in memory when /dev/shm exists), removed at exit.
class ScratchFile {
 public:
  ScratchFile() {
    const char* base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    path_ = std::string(base) + "/cella-qcow2-fuzz-XXXXXX";
    const int fd = mkstemp(path_.data());
    if (fd >= 0) close(fd);
  }
  ~ScratchFile() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const std::string& scratch_path() {
  static const ScratchFile file;
  return file.path();
}

bool write_input(const uint8_t* data, size_t size) {
  const int fd = open(scratch_path().c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < size) {
    const ssize_t n = write(fd, data + done, size - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  close(fd);
  return done == size;
}

void read_some(BlockImage& image, uint64_t offset) {
  if (image.size() == 0) return;
  offset %= image.size();
  std::vector<uint8_t> buffer(std::min<uint64_t>(kReadBytes, image.size() - offset));
  (void)image.read(offset, buffer);
}

void exercise_read_only(BlockImage& image) {
  (void)image.info();
  (void)image.map(0, std::min(image.size(), kMaxMapBytes));
  read_some(image, 0);
  read_some(image, image.size() / 2);
  read_some(image, image.size() - std::min<uint64_t>(image.size(), 4096));
  (void)image.check(false);
}

void exercise_writes(BlockImage& image, uint8_t knob) {
  const uint64_t size = image.size();
  if (size == 0) return;
  std::vector<uint8_t> data(std::min<uint64_t>(size, 70000), knob);
  (void)image.write(0, std::span<const uint8_t>(data).first(std::min<size_t>(data.size(), 5000)));
  (void)image.write(size / 2 - std::min<uint64_t>(size / 2, 1000), data);
  (void)image.write_zeroes(size / 3, std::min<uint64_t>(size - size / 3, 200000), knob & 1);
  (void)image.discard(size / 4, std::min<uint64_t>(size - size / 4, 300000));
  const uint64_t cs = image.cluster_size();
  if (cs != 0 && cs <= (2u << 20)) {
    const uint64_t cluster = (size / 5) / cs * cs;
    std::vector<uint8_t> compressible(std::min(cs, size - cluster), 0x5a);
    (void)image.write_compressed(cluster, compressible);
  }
  if (knob & 2) (void)image.resize(size + (1 << 20));
  (void)image.flush();
  (void)image.check(true);
  read_some(image, 0);
  read_some(image, size / 2);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (!write_input(data, size)) return 0;
  OpenOptions options;
  options.format = "qcow2";
  options.read_only = true;
  options.open_backing = false;  // never follow names from hostile input to other host files
  {
    auto image = cella::block::open_image(scratch_path(), options);
    if (!image) return 0;
    exercise_read_only(**image);
  }
  options.read_only = false;
  auto image = cella::block::open_image(scratch_path(), options);
  if (image) exercise_writes(**image, size > 0 ? data[size - 1] : 0);
  return 0;
}
