// Helpers for the qcow2 unit tests: a scratch directory, deterministic random data, and
// image creation / opening shorthands.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "block/format_registry.h"
#include "block/qcow2/qcow2_image.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_data.h"

namespace cella::block::qcow2::testing {

using cella::testing::random_bytes;
using cella::testing::TempDir;

inline void create_qcow2(const std::string& path, uint64_t size,
                         std::map<std::string, std::string> options = {},
                         const std::string& backing = "", const std::string& backing_format = "") {
  CreateOptions create;
  create.path = path;
  create.size = size;
  create.backing_file = backing;
  create.backing_format = backing_format;
  create.options = std::move(options);
  auto result = create_image("qcow2", create);
  ASSERT_TRUE(result.ok()) << result.error().message();
}

inline std::unique_ptr<BlockImage> open_rw(const std::string& path, bool read_only = false) {
  OpenOptions options;
  options.read_only = read_only;
  auto image = open_image(path, options);
  EXPECT_TRUE(image.ok()) << (image.ok() ? "" : image.error().message());
  return image.ok() ? std::move(image).value() : nullptr;
}

inline std::unique_ptr<Qcow2Image> open_tuned(const std::string& path, const Tuning& tuning,
                                              bool read_only = false) {
  OpenOptions options;
  options.read_only = read_only;
  auto file = HostFile::open(path, read_only ? Access::kReadOnly : Access::kReadWrite);
  EXPECT_TRUE(file.ok());
  if (!file.ok()) return nullptr;
  auto image = Qcow2Image::open(std::move(file).value(), options, tuning);
  EXPECT_TRUE(image.ok()) << (image.ok() ? "" : image.error().message());
  return image.ok() ? std::move(image).value() : nullptr;
}

// Disk space a file uses (st_blocks), without opening (and locking) it.
inline uint64_t disk_usage(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

inline std::vector<uint8_t> read_all(BlockImage& image) {
  std::vector<uint8_t> out(image.size());
  auto result = image.read(0, out);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message());
  return out;
}

// Expects a clean check: no corruption, no leak.
inline void expect_clean(BlockImage& image) {
  auto report = image.check(false);
  ASSERT_TRUE(report.ok()) << report.error().message();
  std::string messages;
  for (const auto& m : report->messages) messages += m + "\n";
  EXPECT_EQ(report->corruptions, 0u) << messages;
  EXPECT_EQ(report->leaks, 0u) << messages;
}

#define ASSERT_OK(expr)                                                                \
  do {                                                                                 \
    const auto& cella_result = (expr);                                                 \
    ASSERT_TRUE(cella_result.ok()) << #expr << ": " << cella_result.error().message(); \
  } while (0)

}  // namespace cella::block::qcow2::testing
