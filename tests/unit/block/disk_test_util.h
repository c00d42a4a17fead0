// Helpers for image-format tests: a scratch folder, deterministic data patterns, whole-file
// access, and running the qemu tools that the interoperability tests compare against.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "block/block_image.h"
#include "block/format_registry.h"

namespace cella::block::testing {

// A folder removed with its contents when the test ends.
class TempDir {
 public:
  // On tmpfs when there is one: fdatasync costs nothing there, and the tests flush a lot.
  TempDir() {
    const std::filesystem::path base = ::access("/dev/shm", W_OK) == 0
                                           ? std::filesystem::path("/dev/shm")
                                           : std::filesystem::temp_directory_path();
    std::string pattern = (base / "cella-disk-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data()) ? pattern : "";
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Bytes that differ at every offset and from one seed to another.
inline std::vector<uint8_t> pattern(size_t size, uint32_t seed) {
  std::vector<uint8_t> out(size);
  std::mt19937 generator(seed);
  for (size_t i = 0; i < size; i += 4) {
    const uint32_t value = generator();
    for (size_t j = 0; j < 4 && i + j < size; ++j)
      out[i + j] = static_cast<uint8_t>(value >> (8 * j));
  }
  return out;
}

inline std::vector<uint8_t> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
}

inline void spit(const std::string& path, const std::vector<uint8_t>& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

// Writes a file leaving holes where the data is zero (for large expected-content files).
inline void spit_sparse(const std::string& path, const std::vector<uint8_t>& data) {
  std::filesystem::remove(path);
  std::ofstream out(path, std::ios::binary);
  constexpr size_t kChunk = 64 * 1024;
  static const std::vector<uint8_t> zeros(kChunk, 0);
  for (size_t at = 0; at < data.size(); at += kChunk) {
    const size_t n = std::min(kChunk, data.size() - at);
    if (std::memcmp(data.data() + at, zeros.data(), n) == 0) continue;
    out.seekp(static_cast<std::streamoff>(at));
    out.write(reinterpret_cast<const char*>(data.data() + at), static_cast<std::streamsize>(n));
  }
  out.close();
  std::filesystem::resize_file(path, data.size());
}

inline void patch(const std::string& path, uint64_t offset, const std::vector<uint8_t>& data) {
  std::fstream out(path, std::ios::binary | std::ios::in | std::ios::out);
  out.seekp(static_cast<std::streamoff>(offset));
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

inline CommandResult run(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// Reads a whole image through Cella.
inline std::vector<uint8_t> read_all(BlockImage& image) {
  std::vector<uint8_t> out(image.size());
  auto result = image.read(0, out);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message());
  return out;
}

inline std::unique_ptr<BlockImage> open_or_fail(const std::string& path, bool read_only = false) {
  OpenOptions options;
  options.read_only = read_only;
  auto image = open_image(path, options);
  EXPECT_TRUE(image.ok()) << (image.ok() ? "" : image.error().message());
  return image.ok() ? std::move(*image) : nullptr;
}

// The error message of a failed result, or "" if it succeeded.
template <class T>
std::string error_of(const Result<T>& result) {
  return result.ok() ? std::string() : result.error().message();
}

}  // namespace cella::block::testing
