// What the VMDK and VDI tests add to the shared image-test helpers (image_test_support.h,
// tests/support/): seeded random data, sparse expected-content files, in-place patches of a
// host file, and the message of a failed result.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "image_test_support.h"
#include "tests/support/qemu_tools.h"
#include "tests/support/test_data.h"

namespace cella::block::testing {

using cella::testing::read_whole_file;
using cella::testing::run_command;
using cella::testing::write_whole_file;

// Bytes that differ at every offset and from one seed to another (incompressible).
inline std::vector<uint8_t> pattern(size_t size, uint32_t seed) {
  std::mt19937_64 rng(seed);
  return cella::testing::random_bytes(rng, size);
}

// Writes a file leaving holes where the data is zero (for large expected-content files).
inline void spit_sparse(const std::string& path, const std::vector<uint8_t>& data) {
  std::filesystem::remove(path);
  std::ofstream out(path, std::ios::binary);
  constexpr size_t kChunk = 64 * 1024;
  for (size_t at = 0; at < data.size(); at += kChunk) {
    const size_t n = std::min(kChunk, data.size() - at);
    if (std::all_of(data.begin() + at, data.begin() + at + n, [](uint8_t b) { return b == 0; })) {
      continue;
    }
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

// The error message of a failed result, or "" if it succeeded.
template <class T>
std::string error_of(const Result<T>& result) {
  return result.ok() ? std::string() : result.error().message();
}

}  // namespace cella::block::testing
