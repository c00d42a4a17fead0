// Shared by the image-format tests (VHD, VHDX, VMDK, VDI): a scratch folder, byte patterns,
// whole-image reads, and opening and creating images.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "block/block_image.h"
#include "block/format_registry.h"
#include "tests/support/temp_dir.h"

namespace cella::block::testing {

using cella::testing::TempDir;

// A recognizable pattern: byte i of the stream seeded `seed` at disk offset `offset`.
inline std::vector<uint8_t> pattern(uint64_t offset, size_t length, uint8_t seed) {
  std::vector<uint8_t> bytes(length);
  for (size_t i = 0; i < length; ++i) {
    const uint64_t at = offset + i;
    bytes[i] = static_cast<uint8_t>((at * 131 + (at >> 9) * 7 + seed) ^ (at >> 17));
  }
  return bytes;
}

inline void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

inline std::vector<uint8_t> read_host_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes(std::filesystem::file_size(path));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return bytes;
}

inline std::unique_ptr<BlockImage> open_ok(const std::string& path, bool read_only = false,
                                           const std::string& format = "") {
  OpenOptions options;
  options.read_only = read_only;
  options.format = format;
  auto image = open_image(path, options);
  EXPECT_TRUE(image.ok()) << (image.ok() ? "" : image.error().message());
  return image.ok() ? std::move(*image) : nullptr;
}

inline std::string open_error(const std::string& path, bool read_only = true,
                              const std::string& format = "") {
  OpenOptions options;
  options.read_only = read_only;
  options.format = format;
  auto image = open_image(path, options);
  return image.ok() ? std::string("(opened)") : image.error().message();
}

inline std::vector<uint8_t> read_all(BlockImage& image) {
  std::vector<uint8_t> bytes(image.size());
  auto result = image.read(0, bytes);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message());
  return bytes;
}

// Writes `data` at `offset` of the image at `path` without a flush and closes it: closing must
// write back the metadata a format caches (block maps, grain tables). Returns the image opened
// again read-only after checking that it reads the data back.
inline std::unique_ptr<BlockImage> reopen_after_unflushed_write(const std::string& path,
                                                                uint64_t offset,
                                                                const std::vector<uint8_t>& data) {
  {
    auto image = open_ok(path);
    if (image == nullptr) return nullptr;
    auto written = image->write(offset, data);
    EXPECT_TRUE(written.ok()) << (written.ok() ? "" : written.error().message());
  }
  auto image = open_ok(path, true);
  if (image == nullptr) return nullptr;
  std::vector<uint8_t> back(data.size());
  auto read = image->read(offset, back);
  EXPECT_TRUE(read.ok()) << (read.ok() ? "" : read.error().message());
  EXPECT_EQ(back, data);
  return image;
}

// Creates an image; the result is for tests of refusals (create_ok asserts success).
inline Result<void> create_file(std::string_view format, const std::string& path, uint64_t size,
                                std::map<std::string, std::string> options = {},
                                const std::string& backing = "") {
  CreateOptions create;
  create.path = path;
  create.size = size;
  create.options = std::move(options);
  create.backing_file = backing;
  return create_image(format, create);
}

inline void create_ok(std::string_view format, const std::string& path, uint64_t size,
                      std::map<std::string, std::string> options = {},
                      const std::string& backing = "") {
  auto result = create_file(format, path, size, std::move(options), backing);
  ASSERT_TRUE(result.ok()) << result.error().message();
}

#define EXPECT_OK(expr)                                                             \
  do {                                                                              \
    auto cella_expect_result = (expr);                                              \
    EXPECT_TRUE(cella_expect_result.ok())                                           \
        << (cella_expect_result.ok() ? "" : cella_expect_result.error().message()); \
  } while (0)
#define ASSERT_OK(expr)                                                             \
  do {                                                                              \
    auto cella_assert_result = (expr);                                              \
    ASSERT_TRUE(cella_assert_result.ok())                                           \
        << (cella_assert_result.ok() ? "" : cella_assert_result.error().message()); \
  } while (0)

}  // namespace cella::block::testing
