// Shared by the image-format fuzz targets: a scratch folder kept for the process, and one
// pass over an image the way its users drive it (open, read, map, check, info; then, opened
// for writing, write, zero, discard, flush and check again). Every step is bounded so that a
// hostile header declaring a huge disk costs no more than a small one.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "block/block_image.h"
#include "block/format_registry.h"
#include "block/host_file.h"

namespace cella::fuzz {

class ScratchDir {
 public:
  ScratchDir() {
    const char* shm = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    std::string pattern = std::string(shm) + "/cella-fuzz-XXXXXX";
    path_ = ::mkdtemp(pattern.data()) ? pattern : "/tmp";
  }
  ~ScratchDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Replaces a file's content (creating it).
inline void put_file(const std::string& path, const uint8_t* data, size_t size) {
  ::unlink(path.c_str());
  auto file = block::HostFile::create(path);
  if (!file) std::abort();
  if (size > 0 && !file->write(0, std::span<const uint8_t>(data, size))) std::abort();
}

inline void exercise(const std::string& path, const std::string& format, bool read_only) {
  block::OpenOptions options;
  options.format = format;
  options.read_only = read_only;
  options.max_chain_depth = 4;
  auto opened = block::open_image(path, options);
  if (!opened) return;
  block::BlockImage& image = **opened;
  const uint64_t size = image.size();
  constexpr uint64_t kWindow = 1 << 20;
  std::vector<uint8_t> buffer(128 * 1024);
  for (uint64_t at = 0; at < std::min(size, kWindow); at += buffer.size()) {
    const uint64_t n = std::min<uint64_t>(buffer.size(), size - at);
    (void)image.read(at, std::span<uint8_t>(buffer.data(), n));
  }
  if (size > 4096) (void)image.read(size - 4096, std::span<uint8_t>(buffer.data(), 4096));
  if (size > 3) (void)image.read(size / 2 + 1, std::span<uint8_t>(buffer.data(), 3));
  (void)image.map(0, std::min<uint64_t>(size, 64 * kWindow));
  (void)image.info();
  (void)image.check(false);
  if (read_only || size == 0) return;
  std::fill(buffer.begin(), buffer.end(), 0x5a);
  (void)image.write(0, std::span<const uint8_t>(buffer.data(), std::min<uint64_t>(size, 5000)));
  (void)image.write(size / 3, std::span<const uint8_t>(buffer.data(),
                                                       std::min<uint64_t>(size - size / 3, 70000)));
  (void)image.write(size - 1, std::span<const uint8_t>(buffer.data(), 1));
  (void)image.write_zeroes(size / 4, std::min<uint64_t>(size - size / 4, 3 * kWindow), true);
  (void)image.discard(0, std::min<uint64_t>(size, 2 * kWindow));
  (void)image.flush();
  (void)image.check(true);
  (void)image.read(0, std::span<uint8_t>(buffer.data(), std::min<uint64_t>(size, buffer.size())));
}

}  // namespace cella::fuzz
