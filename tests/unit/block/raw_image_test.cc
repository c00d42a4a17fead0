#include <gtest/gtest.h>
#include <sys/stat.h>

#include <numeric>
#include <vector>

#include "block/format_registry.h"
#include "block/ops/chain_map.h"
#include "tests/support/temp_dir.h"

namespace cella::block {
namespace {

using cella::testing::TempDir;

// Designated initializers would have to name every field (-Wmissing-field-initializers).
inline OpenOptions open_options(std::string format, bool read_only = false,
                                bool force_share = false) {
  OpenOptions options;
  options.format = std::move(format);
  options.read_only = read_only;
  options.force_share = force_share;
  return options;
}

constexpr uint64_t kMiB = 1 << 20;

std::unique_ptr<BlockImage> create_and_open(const std::string& path, uint64_t size,
                                            const std::string& preallocation = "") {
  CreateOptions create{
      .path = path, .size = size, .backing_file = {}, .backing_format = {}, .options = {}};
  if (!preallocation.empty()) create.options["preallocation"] = preallocation;
  auto created = create_image("raw", create);
  EXPECT_TRUE(created.ok()) << created.error().message();
  auto image = open_image(path, open_options("raw"));
  EXPECT_TRUE(image.ok()) << image.error().message();
  return std::move(image).value();
}

uint64_t allocated(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> data(n);
  std::iota(data.begin(), data.end(), seed);
  return data;
}

TEST(RawImage, CreatesSparseFileOfTheRoundedSize) {
  TempDir dir;
  auto image = create_and_open(dir.file("a.raw"), 1000);
  EXPECT_EQ(image->size(), 1024u);  // whole 512-byte sectors, as qemu-img
  EXPECT_EQ(image->format_name(), "raw");
  EXPECT_EQ(allocated(dir.file("a.raw")), 0u);
}

TEST(RawImage, ReadsBackWhatItWrites) {
  TempDir dir;
  auto image = create_and_open(dir.file("a.raw"), 4 * kMiB);
  const auto data = pattern(10000, 7);
  ASSERT_TRUE(image->write(12345, data).ok());
  std::vector<uint8_t> back(data.size());
  ASSERT_TRUE(image->read(12345, back).ok());
  EXPECT_EQ(back, data);
  ASSERT_TRUE(image->flush().ok());
}

TEST(RawImage, RejectsRequestsPastTheEnd) {
  TempDir dir;
  auto image = create_and_open(dir.file("a.raw"), kMiB);
  std::vector<uint8_t> buffer(512);
  auto read = image->read(kMiB - 256, buffer);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.error().message().find("beyond the end"), std::string::npos);
  EXPECT_FALSE(image->write(kMiB, buffer).ok());
  EXPECT_FALSE(image->discard(kMiB - 1, 2).ok());
  EXPECT_FALSE(image->map(0, kMiB + 1).ok());
}

TEST(RawImage, MapsHolesAsZeroAndDataWhereWritten) {
  TempDir dir;
  auto image = create_and_open(dir.file("a.raw"), 4 * kMiB);
  ASSERT_TRUE(image->write(kMiB, pattern(64 << 10, 1)).ok());
  auto map = image->map(0, 4 * kMiB);
  ASSERT_TRUE(map.ok());
  ASSERT_EQ(map->size(), 3u);
  EXPECT_EQ((*map)[0].kind, ExtentKind::kZero);
  EXPECT_EQ((*map)[0].length, kMiB);
  EXPECT_EQ((*map)[1].kind, ExtentKind::kData);
  EXPECT_EQ((*map)[1].offset, kMiB);
  EXPECT_EQ((*map)[1].length, 64u << 10);
  EXPECT_EQ((*map)[1].host_offset, static_cast<int64_t>(kMiB));
  EXPECT_EQ((*map)[1].host_file, dir.file("a.raw"));
  EXPECT_EQ((*map)[2].kind, ExtentKind::kZero);
  // A sub-range is mapped exactly, clipped to what was asked.
  auto part = image->map(kMiB + 4096, 8192);
  ASSERT_TRUE(part.ok());
  ASSERT_EQ(part->size(), 1u);
  EXPECT_EQ((*part)[0].offset, kMiB + 4096);
  EXPECT_EQ((*part)[0].length, 8192u);
}

TEST(RawImage, DiscardPunchesHolesThatReadAsZeros) {
  TempDir dir;
  auto image = create_and_open(dir.file("a.raw"), 4 * kMiB);
  ASSERT_TRUE(image->write(0, pattern(2 * kMiB, 3)).ok());
  const uint64_t before = allocated(dir.file("a.raw"));
  ASSERT_TRUE(image->discard(0, kMiB).ok());
  EXPECT_LE(allocated(dir.file("a.raw")), before - kMiB);
  std::vector<uint8_t> back(kMiB);
  ASSERT_TRUE(image->read(0, back).ok());
  EXPECT_EQ(back, std::vector<uint8_t>(kMiB, 0));
  auto map = image->map(0, 2 * kMiB);
  ASSERT_TRUE(map.ok());
  EXPECT_EQ((*map)[0].kind, ExtentKind::kZero);
  EXPECT_EQ((*map)[0].length, kMiB);
}

TEST(RawImage, WriteZeroesUnmapsOrKeepsAllocation) {
  TempDir dir;
  auto image = create_and_open(dir.file("a.raw"), 4 * kMiB);
  ASSERT_TRUE(image->write(0, pattern(4 * kMiB, 5)).ok());
  ASSERT_TRUE(image->write_zeroes(0, kMiB, /*may_unmap=*/true).ok());
  ASSERT_TRUE(image->write_zeroes(kMiB, kMiB, /*may_unmap=*/false).ok());
  // The unmapped half is gone from the disk, the other still holds blocks.
  EXPECT_LE(allocated(dir.file("a.raw")), 3 * kMiB + 65536);
  EXPECT_GE(allocated(dir.file("a.raw")), 3 * kMiB - 65536);
  std::vector<uint8_t> back(2 * kMiB);
  ASSERT_TRUE(image->read(0, back).ok());
  EXPECT_EQ(back, std::vector<uint8_t>(2 * kMiB, 0));
  // Unaligned zeroing keeps the bytes around it.
  ASSERT_TRUE(image->write_zeroes(2 * kMiB + 100, 50, true).ok());
  std::vector<uint8_t> edge(200);
  ASSERT_TRUE(image->read(2 * kMiB, edge).ok());
  EXPECT_EQ(edge[99], static_cast<uint8_t>(5 + 99));
  EXPECT_EQ(edge[100], 0);
  EXPECT_EQ(edge[149], 0);
  EXPECT_EQ(edge[150], static_cast<uint8_t>(5 + 150));
}

TEST(RawImage, ResizeGrowsSparseAndShrinks) {
  TempDir dir;
  auto image = create_and_open(dir.file("a.raw"), kMiB);
  ASSERT_TRUE(image->write(kMiB - 4, pattern(4, 9)).ok());
  ASSERT_TRUE(image->resize(64 * kMiB).ok());
  EXPECT_EQ(image->size(), 64 * kMiB);
  EXPECT_LT(allocated(dir.file("a.raw")), kMiB);
  std::vector<uint8_t> tail(8);
  ASSERT_TRUE(image->read(kMiB - 4, tail).ok());
  EXPECT_EQ(tail, (std::vector<uint8_t>{9, 10, 11, 12, 0, 0, 0, 0}));
  ASSERT_TRUE(image->resize(kMiB - 2).ok());
  EXPECT_EQ(image->size(), kMiB - 2);
  std::vector<uint8_t> shrunk(2);
  ASSERT_TRUE(image->read(kMiB - 4, shrunk).ok());
  EXPECT_EQ(shrunk, (std::vector<uint8_t>{9, 10}));
  EXPECT_FALSE(image->read(kMiB - 4, tail).ok());
}

TEST(RawImage, PreallocationModes) {
  TempDir dir;
  create_and_open(dir.file("off.raw"), 8 * kMiB, "off");
  create_and_open(dir.file("falloc.raw"), 8 * kMiB, "falloc");
  auto full = create_and_open(dir.file("full.raw"), 8 * kMiB, "full");
  EXPECT_EQ(allocated(dir.file("off.raw")), 0u);
  EXPECT_GE(allocated(dir.file("falloc.raw")), 8 * kMiB);
  EXPECT_GE(allocated(dir.file("full.raw")), 8 * kMiB);
  // Written zeros are data; fallocated blocks are not (they read as zeros).
  auto map = full->map(0, 8 * kMiB);
  ASSERT_TRUE(map.ok());
  EXPECT_EQ((*map)[0].kind, ExtentKind::kData);
  auto bad = create_image("raw", CreateOptions{.path = dir.file("bad.raw"),
                                               .size = kMiB,
                                               .backing_file = {},
                                               .backing_format = {},
                                               .options = {{"preallocation", "metadata"}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("metadata"), std::string::npos);
}

TEST(RawImage, RefusesBackingFilesAndUnknownOptions) {
  TempDir dir;
  auto backing = create_image("raw", CreateOptions{.path = dir.file("a.raw"),
                                                   .size = kMiB,
                                                   .backing_file = "base.raw",
                                                   .backing_format = "raw",
                                                   .options = {}});
  ASSERT_FALSE(backing.ok());
  EXPECT_NE(backing.error().message().find("backing"), std::string::npos);
  auto unknown = create_image("raw", CreateOptions{.path = dir.file("a.raw"),
                                                   .size = kMiB,
                                                   .backing_file = {},
                                                   .backing_format = {},
                                                   .options = {{"cluster_size", "65536"}}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message().find("cluster_size"), std::string::npos);
}

TEST(RawImage, CheckIsCleanAndSetBackingIsRefused) {
  TempDir dir;
  auto image = create_and_open(dir.file("a.raw"), kMiB);
  auto report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions, 0u);
  EXPECT_EQ(report->leaks, 0u);
  EXPECT_FALSE(image->set_backing("base.raw", "raw").ok());
  EXPECT_FALSE(image->make_empty().ok());
}

TEST(RawImage, ReadOnlyOpenRefusesChanges) {
  TempDir dir;
  create_and_open(dir.file("a.raw"), kMiB);
  auto image = open_image(dir.file("a.raw"), open_options("raw", true));
  ASSERT_TRUE(image.ok());
  EXPECT_TRUE((*image)->read_only());
  std::vector<uint8_t> data(512, 1);
  auto write = (*image)->write(0, data);
  ASSERT_FALSE(write.ok());
  EXPECT_NE(write.error().message().find("read-only"), std::string::npos);
  EXPECT_FALSE((*image)->discard(0, 4096).ok());
  EXPECT_FALSE((*image)->resize(2 * kMiB).ok());
}

TEST(RawImage, AWriterLocksOutOtherWritersButNotForceShare) {
  TempDir dir;
  auto writer = create_and_open(dir.file("a.raw"), kMiB);
  auto second = open_image(dir.file("a.raw"), open_options("raw"));
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message().find("in use"), std::string::npos);
  EXPECT_FALSE(open_image(dir.file("a.raw"), open_options("", true)).ok());
  auto shared = open_image(dir.file("a.raw"), open_options("", true, true));
  EXPECT_TRUE(shared.ok());
  EXPECT_FALSE(open_image(dir.file("a.raw"), open_options("", false, true)).ok());
}

}  // namespace
}  // namespace cella::block
