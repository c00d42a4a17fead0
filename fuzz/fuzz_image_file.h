// Fuzz inputs for image formats: a sparse description of an image file, so that files of
// several MiB (a VHDX is at least 4) fit in a few KiB of input and mutations hit structures.
// An input is a sequence of records: offset (u32 LE, taken modulo kMaxFileSize), length (u16
// LE), then `length` bytes; the file ends at the end of the last-ending record. Each input is
// written to a fresh scratch file, so every run starts from nothing.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace cella::fuzz {

inline constexpr uint64_t kMaxFileSize = 64ull << 20;

struct Chunk {
  uint64_t offset = 0;
  std::vector<uint8_t> bytes;
};

inline std::vector<Chunk> decode_image(const uint8_t* data, size_t size) {
  std::vector<Chunk> chunks;
  size_t at = 0;
  while (at + 6 <= size) {
    uint32_t offset;
    uint16_t length;
    std::memcpy(&offset, data + at, 4);
    std::memcpy(&length, data + at + 4, 2);
    at += 6;
    length = static_cast<uint16_t>(std::min<size_t>(length, size - at));
    chunks.push_back({offset % kMaxFileSize, std::vector<uint8_t>(data + at, data + at + length)});
    at += length;
  }
  return chunks;
}

// The records of a file: its non-zero 512-byte sectors in runs, and its last byte.
inline std::vector<uint8_t> encode_image(const std::vector<uint8_t>& file) {
  std::vector<uint8_t> out;
  auto record = [&](uint64_t offset, uint64_t length) {
    const uint32_t o = static_cast<uint32_t>(offset);
    const uint16_t l = static_cast<uint16_t>(length);
    out.insert(out.end(), reinterpret_cast<const uint8_t*>(&o),
               reinterpret_cast<const uint8_t*>(&o) + 4);
    out.insert(out.end(), reinterpret_cast<const uint8_t*>(&l),
               reinterpret_cast<const uint8_t*>(&l) + 2);
    out.insert(out.end(), file.begin() + offset, file.begin() + offset + length);
  };
  const uint64_t sector = 512;
  uint64_t at = 0;
  while (at < file.size()) {
    auto nonzero = [&](uint64_t s) {
      const uint64_t end = std::min<uint64_t>(s + sector, file.size());
      return std::any_of(file.begin() + s, file.begin() + end, [](uint8_t b) { return b != 0; });
    };
    if (!nonzero(at)) {
      at += sector;
      continue;
    }
    uint64_t end = at;
    while (end < file.size() && nonzero(end) && end - at + sector <= 65024) end += sector;
    end = std::min<uint64_t>(end, file.size());
    record(at, end - at);
    at = end;
  }
  if (!file.empty()) record(file.size() - 1, 1);
  return out;
}

// A scratch file in its own folder (a differencing image's locators resolve next to it).
class ScratchImage {
 public:
  ScratchImage() {
    const char* base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string pattern = std::string(base) + "/cella-fuzz-XXXXXX";
    folder_ = ::mkdtemp(pattern.data());
    path_ = folder_ + "/image";
  }
  ~ScratchImage() { std::filesystem::remove_all(folder_); }

  const std::string& write(const std::vector<Chunk>& chunks) {
    const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    uint64_t end = 0;
    for (const Chunk& chunk : chunks) {
      end = std::max<uint64_t>(end, std::min(kMaxFileSize, chunk.offset + chunk.bytes.size()));
      const size_t n =
          static_cast<size_t>(std::min<uint64_t>(chunk.bytes.size(), kMaxFileSize - chunk.offset));
      if (n > 0 && ::pwrite(fd, chunk.bytes.data(), n, static_cast<off_t>(chunk.offset)) < 0) break;
    }
    if (::ftruncate(fd, static_cast<off_t>(end)) != 0) end = 0;
    ::close(fd);
    return path_;
  }

 private:
  std::string folder_, path_;
};

}  // namespace cella::fuzz
