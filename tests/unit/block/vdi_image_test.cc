// VDI images created, written and read back by Cella: dynamic and static images, block sizes,
// discard with compaction, zero writes, growth (with and without moving the block map).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "block/vdi/vdi_image.h"
#include "disk_test_util.h"

namespace cella::block {
namespace {

using testing::error_of;
using testing::pattern;
using testing::read_all;
using testing::TempDir;

constexpr uint64_t kBlock = 1 << 20;

Result<void> create(const std::string& path, uint64_t size,
                    std::map<std::string, std::string> options = {},
                    const std::string& backing = "") {
  return testing::create_file("vdi", path, size, std::move(options), backing);
}

const vdi::Header& header_of(BlockImage& image) {
  return static_cast<vdi::VdiImage&>(image).header();
}

void write_both(BlockImage& image, std::vector<uint8_t>& expected, uint64_t offset,
                const std::vector<uint8_t>& data) {
  ASSERT_TRUE(image.write(offset, data).ok());
  std::memcpy(expected.data() + offset, data.data(), data.size());
}

void expect_clean(BlockImage& image) {
  auto report = image.check(false);
  ASSERT_TRUE(report.ok()) << error_of(report);
  EXPECT_EQ(report->corruptions, 0u);
  EXPECT_EQ(report->leaks, 0u) << (report->messages.empty() ? "" : report->messages[0]);
}

struct Variant {
  const char* name;
  std::map<std::string, std::string> options;
  uint64_t block;
};

class VdiVariant : public ::testing::TestWithParam<Variant> {};

TEST_P(VdiVariant, WritesReadBackAfterReopen) {
  TempDir dir;
  const std::string path = dir.file("d.vdi");
  const uint64_t block = GetParam().block;
  const uint64_t size = 6 * block + 1536;  // not a multiple of the block size
  ASSERT_TRUE(create(path, size, GetParam().options).ok());
  std::vector<uint8_t> expected(size, 0);
  {
    auto image = testing::open_ok(path);
    ASSERT_TRUE(image);
    EXPECT_EQ(image->size(), size);
    EXPECT_EQ(image->cluster_size(), block);
    write_both(*image, expected, 100, pattern(1000, 1));
    write_both(*image, expected, block - 3, pattern(10, 2));
    write_both(*image, expected, 3 * block, pattern(2 * block, 3));
    write_both(*image, expected, size - 700, pattern(700, 4));
    write_both(*image, expected, 150, pattern(10, 5));
    EXPECT_EQ(read_all(*image), expected);
    ASSERT_TRUE(image->flush().ok());
  }
  auto image = testing::open_ok(path, true);
  EXPECT_EQ(read_all(*image), expected);
  expect_clean(*image);
}

INSTANTIATE_TEST_SUITE_P(
    All, VdiVariant,
    ::testing::Values(Variant{"dynamic", {}, kBlock}, Variant{"static", {{"static", "on"}}, kBlock},
                      Variant{"small_blocks", {{"block_size", "64k"}}, 64 * 1024}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(VdiImage, StaticImagesAllocateEverything) {
  TempDir dir;
  ASSERT_TRUE(create(dir.file("s.vdi"), 3 * kBlock, {{"static", "on"}}).ok());
  auto image = testing::open_ok(dir.file("s.vdi"));
  EXPECT_EQ(header_of(*image).blocks_allocated, 3u);
  EXPECT_GE(std::filesystem::file_size(dir.file("s.vdi")), 3 * kBlock);
  auto map = image->map(0, image->size());
  ASSERT_TRUE(map.ok());
  ASSERT_EQ(map->size(), 1u);
  EXPECT_EQ((*map)[0].kind, ExtentKind::kData);
  // Discarding keeps a static image's blocks.
  ASSERT_TRUE(image->discard(0, 3 * kBlock).ok());
  EXPECT_EQ(header_of(*image).blocks_allocated, 3u);
}

TEST(VdiImage, DiscardCompactsTheFile) {
  TempDir dir;
  const std::string path = dir.file("d.vdi");
  ASSERT_TRUE(create(path, 6 * kBlock).ok());
  auto image = testing::open_ok(path);
  std::vector<uint8_t> expected = pattern(6 * kBlock, 9);
  ASSERT_TRUE(image->write(0, expected).ok());
  ASSERT_TRUE(image->flush().ok());
  const uint64_t full = std::filesystem::file_size(path);
  // Blocks 1 and 3 go; the last two slots move into their places.
  ASSERT_TRUE(image->discard(kBlock - 100, kBlock + 200).ok());  // only block 1 is whole
  ASSERT_TRUE(image->discard(3 * kBlock, kBlock).ok());
  std::memset(expected.data() + kBlock, 0, kBlock);
  std::memset(expected.data() + 3 * kBlock, 0, kBlock);
  EXPECT_EQ(read_all(*image), expected);
  EXPECT_EQ(header_of(*image).blocks_allocated, 4u);
  EXPECT_EQ(std::filesystem::file_size(path), full - 2 * kBlock);
  expect_clean(*image);
  image.reset();
  auto reopened = testing::open_ok(path, true);
  EXPECT_EQ(read_all(*reopened), expected);
  expect_clean(*reopened);
}

TEST(VdiImage, ZeroWritesFreeOrKeepBlocks) {
  TempDir dir;
  const std::string path = dir.file("z.vdi");
  ASSERT_TRUE(create(path, 4 * kBlock).ok());
  auto image = testing::open_ok(path);
  std::vector<uint8_t> expected = pattern(4 * kBlock, 4);
  ASSERT_TRUE(image->write(0, expected).ok());
  ASSERT_TRUE(image->write_zeroes(kBlock, kBlock, true).ok());       // freed
  ASSERT_TRUE(image->write_zeroes(2 * kBlock, kBlock, false).ok());  // kept, zero-filled
  ASSERT_TRUE(image->write_zeroes(100, 200, true).ok());             // partial: written
  std::memset(expected.data() + kBlock, 0, 2 * kBlock);
  std::memset(expected.data() + 100, 0, 200);
  EXPECT_EQ(read_all(*image), expected);
  EXPECT_EQ(header_of(*image).blocks_allocated, 3u);
  expect_clean(*image);
}

TEST(VdiImage, GrowsInPlaceAndByMovingTheMap) {
  TempDir dir;
  const std::string path = dir.file("g.vdi");
  ASSERT_TRUE(create(path, 2 * kBlock + 512).ok());
  std::vector<uint8_t> expected = pattern(2 * kBlock + 512, 6);
  {
    auto image = testing::open_ok(path);
    ASSERT_TRUE(image->write(0, expected).ok());
    // Cella leaves room for the map up to 1 MiB: this growth only adds entries.
    ASSERT_TRUE(image->resize(40 * kBlock).ok());
    EXPECT_EQ(header_of(*image).blocks_offset, 512u);
    expected.resize(40 * kBlock, 0);
    write_both(*image, expected, 39 * kBlock + 5, pattern(100, 7));
    EXPECT_EQ(read_all(*image), expected);
    expect_clean(*image);
    // A map larger than the room before the data moves over the first data slots.
    const uint32_t data_offset = header_of(*image).data_offset;
    ASSERT_TRUE(image->resize(300000 * kBlock).ok());
    EXPECT_EQ(header_of(*image).blocks_offset, data_offset);
    expected.resize(expected.size() + 4 * kBlock, 0);
    write_both(*image, expected, expected.size() - 4 * kBlock, pattern(4 * kBlock, 8));
    std::vector<uint8_t> head(expected.size());
    ASSERT_TRUE(image->read(0, head).ok());
    EXPECT_EQ(head, expected);
    expect_clean(*image);
    EXPECT_NE(error_of(image->resize(kBlock)).find("shrinking"), std::string::npos);
  }
  auto image = testing::open_ok(path, true);
  EXPECT_EQ(image->size(), 300000 * kBlock);
  std::vector<uint8_t> head(expected.size());
  ASSERT_TRUE(image->read(0, head).ok());
  EXPECT_EQ(head, expected);
  expect_clean(*image);
}

TEST(VdiImage, StaticImagesGrowWithAllocatedBlocks) {
  TempDir dir;
  const std::string path = dir.file("s.vdi");
  ASSERT_TRUE(create(path, 2 * kBlock, {{"static", "on"}}).ok());
  auto image = testing::open_ok(path);
  std::vector<uint8_t> expected = pattern(2 * kBlock, 3);
  ASSERT_TRUE(image->write(0, expected).ok());
  ASSERT_TRUE(image->resize(5 * kBlock).ok());
  expected.resize(5 * kBlock, 0);
  EXPECT_EQ(header_of(*image).blocks_allocated, 5u);
  EXPECT_EQ(read_all(*image), expected);
  expect_clean(*image);
}

TEST(VdiImage, OptionsAreValidated) {
  TempDir dir;
  EXPECT_NE(
      error_of(create(dir.file("a.vdi"), kBlock, {{"block_size", "3000"}})).find("power of two"),
      std::string::npos);
  EXPECT_NE(
      error_of(create(dir.file("a.vdi"), kBlock, {{"static", "maybe"}})).find("not on or off"),
      std::string::npos);
  EXPECT_NE(error_of(create(dir.file("a.vdi"), uint64_t{1} << 60)).find("too large"),
            std::string::npos);
}

}  // namespace
}  // namespace cella::block

namespace cella::block {
namespace {

TEST(VdiImage, ClosingWritesBackTheBlockMap) {
  testing::TempDir dir;
  const std::string path = dir.file("c.vdi");
  ASSERT_TRUE(create(path, 4 * kBlock).ok());
  auto image =
      testing::reopen_after_unflushed_write(path, kBlock / 2, testing::pattern(2 * kBlock, 4));
  ASSERT_NE(image, nullptr);
  expect_clean(*image);
}

}  // namespace
}  // namespace cella::block
