// VHD images created and written by Cella: contents, allocation map, discard, resize, check.
#include <gtest/gtest.h>

#include <cstring>

#include "block/vhd/vhd_format.h"
#include "image_test_support.h"

namespace cella::block {
namespace {

using testing::create_ok;
using testing::open_ok;
using testing::pattern;
using testing::read_all;
using testing::TempDir;

constexpr uint64_t kBlock = 64 * 1024;  // small blocks keep the files small

class VhdImageTest : public ::testing::TestWithParam<const char*> {
 protected:
  std::string subformat() const { return GetParam(); }
  std::unique_ptr<BlockImage> make(uint64_t size, const std::string& name = "disk.vhd") {
    path_ = dir_.file(name);
    create_ok(
        "vhd", path_, size,
        {{"subformat", subformat()}, {"block_size", std::to_string(kBlock)}, {"force_size", "on"}});
    return open_ok(path_, false, "vhd");
  }
  TempDir dir_;
  std::string path_;
};

TEST_P(VhdImageTest, NewImageReadsZeros) {
  auto image = make(1 << 20);
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(image->size(), 1u << 20);
  EXPECT_EQ(image->format_name(), "vhd");
  const auto bytes = read_all(*image);
  EXPECT_TRUE(std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; }));
  auto report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions, 0u);
  EXPECT_EQ(report->leaks, 0u);
}

TEST_P(VhdImageTest, WritesSurviveReopenAtAnyAlignment) {
  const uint64_t size = 5 * kBlock + 3 * 512;  // not a multiple of the block size
  std::vector<uint8_t> expected(size, 0);
  {
    auto image = make(size);
    ASSERT_NE(image, nullptr);
    struct Write {
      uint64_t offset;
      size_t length;
    } writes[] = {
        {0, 512},          {700, 3000},        {kBlock - 100, 200}, {2 * kBlock + 1, kBlock * 2},
        {size - 777, 777}, {4 * kBlock + 5, 1}};
    uint8_t seed = 1;
    for (const Write& w : writes) {
      const auto data = pattern(w.offset, w.length, seed++);
      ASSERT_OK(image->write(w.offset, data));
      std::memcpy(expected.data() + w.offset, data.data(), data.size());
    }
    ASSERT_OK(image->flush());
    EXPECT_EQ(read_all(*image), expected);
  }
  auto image = open_ok(path_, true, "vhd");
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(read_all(*image), expected);
  auto report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions, 0u);
  EXPECT_EQ(report->leaks, 0u);
}

TEST_P(VhdImageTest, MapShowsWrittenBlocksOnly) {
  auto image = make(8 * kBlock);
  ASSERT_NE(image, nullptr);
  ASSERT_OK(image->write(2 * kBlock + 512, pattern(0, 1024, 9)));
  auto extents = image->map(0, image->size());
  ASSERT_TRUE(extents.ok());
  uint64_t covered = 0, data = 0;
  for (const Extent& extent : *extents) {
    EXPECT_EQ(extent.offset, covered);
    covered += extent.length;
    if (extent.kind == ExtentKind::kData) {
      data += extent.length;
      EXPECT_GE(extent.host_offset, 0);
      EXPECT_LE(extent.offset, 2 * kBlock + 512);
      EXPECT_GE(extent.offset + extent.length, 2 * kBlock + 1536);
    }
  }
  EXPECT_EQ(covered, image->size());
  if (subformat() == "dynamic") {
    EXPECT_EQ(data, kBlock);  // one allocated block, all of it present
  } else {
    EXPECT_GE(data, 1024u);  // a fixed disk: at least the written range holds data
  }
}

TEST_P(VhdImageTest, DiscardAndWriteZeroesReadAsZeros) {
  const uint64_t size = 4 * kBlock;
  auto image = make(size);
  ASSERT_NE(image, nullptr);
  const auto data = pattern(0, size, 3);
  ASSERT_OK(image->write(0, data));
  std::vector<uint8_t> expected = data;
  ASSERT_OK(image->discard(kBlock, kBlock));  // a whole block
  std::fill(expected.begin() + kBlock, expected.begin() + 2 * kBlock, 0);
  ASSERT_OK(image->discard(2 * kBlock + 1024, 4096));  // whole sectors inside a block
  std::fill(expected.begin() + 2 * kBlock + 1024, expected.begin() + 2 * kBlock + 5120, 0);
  ASSERT_OK(image->write_zeroes(3 * kBlock + 100, 1000, true));  // partial sectors too
  std::fill(expected.begin() + 3 * kBlock + 100, expected.begin() + 3 * kBlock + 1100, 0);
  ASSERT_OK(image->write_zeroes(3 * kBlock + 1200, 100, true));  // inside one sector
  std::fill(expected.begin() + 3 * kBlock + 1200, expected.begin() + 3 * kBlock + 1300, 0);
  ASSERT_OK(image->discard(kBlock / 2, 0));  // an empty range
  EXPECT_EQ(read_all(*image), expected);
  if (subformat() == "dynamic") {
    // The discarded block's space is reused by the next allocation: the file does not grow.
    const auto before = std::filesystem::file_size(path_);
    ASSERT_OK(image->write(kBlock, pattern(kBlock, 512, 4)));
    EXPECT_EQ(std::filesystem::file_size(path_), before);
    std::memcpy(expected.data() + kBlock, pattern(kBlock, 512, 4).data(), 512);
    EXPECT_EQ(read_all(*image), expected);
  }
  auto report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions + report->leaks, 0u);
  image.reset();
  image = open_ok(path_, true, "vhd");
  EXPECT_EQ(read_all(*image), expected);
}

TEST_P(VhdImageTest, GrowsKeepingData) {
  auto image = make(3 * kBlock);
  ASSERT_NE(image, nullptr);
  const auto data = pattern(0, 3 * kBlock, 5);
  ASSERT_OK(image->write(0, data));
  // Dynamic: 3 blocks fit one BAT sector (128 entries); 300 blocks need the BAT to move.
  for (uint64_t blocks : {5ull, 300ull}) {
    ASSERT_OK(image->resize(blocks * kBlock));
    EXPECT_EQ(image->size(), blocks * kBlock);
    ASSERT_OK(image->write(image->size() - 512, pattern(0, 512, 6)));
  }
  EXPECT_FALSE(image->resize(kBlock).ok());  // shrinking is refused
  image.reset();
  image = open_ok(path_, true, "vhd");
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(image->size(), 300 * kBlock);
  std::vector<uint8_t> head(3 * kBlock), tail(512), middle(kBlock);
  ASSERT_OK(image->read(0, head));
  EXPECT_EQ(head, data);
  ASSERT_OK(image->read(300 * kBlock - 512, tail));
  EXPECT_EQ(tail, pattern(0, 512, 6));
  ASSERT_OK(image->read(100 * kBlock, middle));
  EXPECT_TRUE(std::all_of(middle.begin(), middle.end(), [](uint8_t b) { return b == 0; }));
  auto report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions + report->leaks, 0u);
}

TEST_P(VhdImageTest, ReadOnlyRefusesWrites) {
  make(kBlock);
  auto image = open_ok(path_, true, "vhd");
  ASSERT_NE(image, nullptr);
  EXPECT_FALSE(image->write(0, pattern(0, 512, 1)).ok());
  EXPECT_FALSE(image->discard(0, 512).ok());
  std::vector<uint8_t> two(2);
  EXPECT_FALSE(image->read(kBlock - 1, two).ok());  // past the end
}

INSTANTIATE_TEST_SUITE_P(Subformats, VhdImageTest, ::testing::Values("dynamic", "fixed"));

TEST(VhdImage, ProbesDynamicButNotFixed) {
  TempDir dir;
  create_ok("vhd", dir.file("d.vhd"), 1 << 20);
  create_ok("vhd", dir.file("f.vhd"), 1 << 20, {{"subformat", "fixed"}});
  auto dynamic = open_ok(dir.file("d.vhd"), true);
  ASSERT_NE(dynamic, nullptr);
  EXPECT_EQ(dynamic->format_name(), "vhd");
  // Default geometry rounding, as qemu-img: 1 MiB becomes 31/4/17.
  EXPECT_EQ(dynamic->size(), 1079296u);
  OpenOptions options;
  options.read_only = true;
  auto fixed = open_image(dir.file("f.vhd"), options);
  EXPECT_TRUE(!fixed.ok() || (*fixed)->format_name() != "vhd");
  auto named = open_ok(dir.file("f.vhd"), true, "vhd");
  ASSERT_NE(named, nullptr);
  EXPECT_EQ(named->size(), 1079296u);
}

TEST(VhdImage, RejectsBadCreateOptions) {
  TempDir dir;
  CreateOptions options;
  options.path = dir.file("x.vhd");
  options.size = 1 << 20;
  options.options = {{"subformat", "sparse"}};
  EXPECT_FALSE(create_image("vhd", options).ok());
  options.options = {{"block_size", "3000"}};
  EXPECT_FALSE(create_image("vhd", options).ok());
  options.options = {{"cluster_size", "64k"}};
  EXPECT_FALSE(create_image("vhd", options).ok());
  options.options = {};
  options.size = 3ull << 40;
  EXPECT_FALSE(create_image("vhd", options).ok());
}

}  // namespace
}  // namespace cella::block
