// What the image-format fuzz targets do with each input: open it read-only and read, map and
// check it; then open it for writing, write, discard, zero, grow, close, and read it again.
// Errors are fine, crashes, hangs and sanitizer reports are not.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "block/format_registry.h"

namespace cella::fuzz {

inline void read_map_check(block::BlockImage& image) {
  const uint64_t size = image.size();
  // Bounded work per input: the first MiBs, a few far offsets, a bounded map.
  std::vector<uint8_t> buffer(256 * 1024);
  const uint64_t span = std::min<uint64_t>(size, 4 << 20);
  for (uint64_t at = 0; at < span; at += buffer.size()) {
    const uint64_t n = std::min<uint64_t>(buffer.size(), span - at);
    (void)image.read(at, std::span(buffer).first(n));
  }
  for (uint64_t at : {size / 3, size / 2 + 511, size - std::min<uint64_t>(size, 5000)}) {
    (void)image.read(at, std::span(buffer).first(std::min<uint64_t>(5000, size - at)));
  }
  (void)image.map(0, std::min<uint64_t>(size, 64 << 20));
  (void)image.check(false);
  (void)image.info();
}

inline void exercise(const std::string& path, const char* format) {
  {
    block::OpenOptions options;
    options.read_only = true;
    options.format = format;
    auto image = block::open_image(path, options);
    if (image) read_map_check(**image);
  }
  block::OpenOptions options;
  options.format = format;
  auto image = block::open_image(path, options);
  if (!image) return;
  block::BlockImage& writable = **image;
  const uint64_t size = writable.size();
  std::vector<uint8_t> data(70000, 0x5A);
  for (uint64_t at : {uint64_t{0}, size / 2 + 777, size - std::min<uint64_t>(size, 70000)}) {
    (void)writable.write(
        at, std::span<const uint8_t>(data).first(std::min<uint64_t>(data.size(), size - at)));
  }
  (void)writable.discard(size / 4, std::min<uint64_t>(size - size / 4, 3 << 20));
  (void)writable.write_zeroes(size / 8 + 100, std::min<uint64_t>(size - size / 8 - 100, 10000),
                              true);
  (void)writable.resize(size + (1 << 20));
  (void)writable.flush();
  (void)writable.check(true);
  image = block::open_image(path, options);
  if (image) read_map_check(**image);
}

}  // namespace cella::fuzz
