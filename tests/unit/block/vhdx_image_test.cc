// VHDX images created and written by Cella: contents, map, discard, resize, sessions, check.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "block/vhdx/vhdx_image.h"
#include "image_test_support.h"

namespace cella::block {
namespace {

using namespace testing;

constexpr uint64_t kBlock = 1 << 20;  // the smallest VHDX block

class VhdxImageTest : public ::testing::TestWithParam<const char*> {
 protected:
  std::string subformat() const { return GetParam(); }
  std::unique_ptr<BlockImage> make(uint64_t size) {
    create_ok("vhdx", path_, size, {{"subformat", subformat()}, {"block_size", "1M"}});
    return open_ok(path_);
  }
  void expect_clean(BlockImage& image) {
    auto report = image.check(false);
    ASSERT_TRUE(report.ok()) << report.error().message();
    EXPECT_EQ(report->corruptions, 0u);
    EXPECT_EQ(report->leaks, 0u);
    for (const auto& message : report->messages) ADD_FAILURE() << message;
  }
  TempDir dir_;
  std::string path_ = dir_.file("disk.vhdx");
};

TEST_P(VhdxImageTest, NewImageReadsZeros) {
  auto image = make(3 * kBlock + 512);
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(image->format_name(), "vhdx");
  EXPECT_EQ(image->size(), 3 * kBlock + 512);
  const auto bytes = read_all(*image);
  EXPECT_TRUE(std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; }));
  expect_clean(*image);
}

TEST_P(VhdxImageTest, WritesSurviveReopenAtAnyAlignment) {
  const uint64_t size = 5 * kBlock + 3 * 512;
  std::vector<uint8_t> expected(size, 0);
  {
    auto image = make(size);
    ASSERT_NE(image, nullptr);
    const struct {
      uint64_t offset;
      size_t length;
    } writes[] = {
        {0, 512},          {700, 3000},        {kBlock - 100, 200}, {2 * kBlock + 1, 2 * kBlock},
        {size - 777, 777}, {4 * kBlock + 5, 1}};
    uint8_t seed = 1;
    for (const auto& w : writes) {
      const auto data = pattern(w.offset, w.length, seed++);
      ASSERT_OK(image->write(w.offset, data));
      std::memcpy(&expected[w.offset], data.data(), data.size());
    }
    ASSERT_OK(image->flush());
    EXPECT_EQ(read_all(*image), expected);
  }
  auto image = open_ok(path_, true);
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(read_all(*image), expected);
  expect_clean(*image);
}

TEST_P(VhdxImageTest, MapShowsWrittenBlocks) {
  auto image = make(8 * kBlock);
  ASSERT_NE(image, nullptr);
  ASSERT_OK(image->write(2 * kBlock + 512, pattern(0, 1024, 9)));
  auto extents = image->map(0, image->size());
  ASSERT_TRUE(extents.ok());
  uint64_t covered = 0, data = 0;
  for (const Extent& extent : *extents) {
    EXPECT_EQ(extent.offset, covered);
    covered += extent.length;
    if (extent.kind == ExtentKind::kData) data += extent.length;
  }
  EXPECT_EQ(covered, image->size());
  EXPECT_EQ(data, subformat() == "fixed" ? 8 * kBlock : kBlock);
}

TEST_P(VhdxImageTest, DiscardAndWriteZeroesReadAsZeros) {
  const uint64_t size = 4 * kBlock;
  auto image = make(size);
  ASSERT_NE(image, nullptr);
  const auto data = pattern(0, size, 3);
  ASSERT_OK(image->write(0, data));
  std::vector<uint8_t> expected = data;
  ASSERT_OK(image->discard(kBlock, kBlock));
  std::fill(expected.begin() + kBlock, expected.begin() + 2 * kBlock, 0);
  ASSERT_OK(image->write_zeroes(2 * kBlock + 1024, 4096, true));
  std::fill(expected.begin() + 2 * kBlock + 1024, expected.begin() + 2 * kBlock + 5120, 0);
  ASSERT_OK(image->write_zeroes(3 * kBlock + 100, 1000, true));
  std::fill(expected.begin() + 3 * kBlock + 100, expected.begin() + 3 * kBlock + 1100, 0);
  ASSERT_OK(image->write_zeroes(3 * kBlock + 1200, 100, true));  // inside one sector
  std::fill(expected.begin() + 3 * kBlock + 1200, expected.begin() + 3 * kBlock + 1300, 0);
  ASSERT_OK(image->discard(kBlock / 2, 0));  // an empty range
  EXPECT_EQ(read_all(*image), expected);
  const auto before = std::filesystem::file_size(path_);
  ASSERT_OK(image->write(kBlock, pattern(kBlock, 512, 4)));
  EXPECT_EQ(std::filesystem::file_size(path_), before);  // the freed block is reused
  std::memcpy(&expected[kBlock], pattern(kBlock, 512, 4).data(), 512);
  EXPECT_EQ(read_all(*image), expected);
  expect_clean(*image);
  image.reset();
  image = open_ok(path_, true);
  EXPECT_EQ(read_all(*image), expected);
}

TEST_P(VhdxImageTest, GrowsKeepingData) {
  auto image = make(3 * kBlock);
  ASSERT_NE(image, nullptr);
  const auto data = pattern(0, 3 * kBlock, 5);
  ASSERT_OK(image->write(0, data));
  // A dynamic image grows past what its 1 MiB BAT region holds (131072 entries), which moves
  // the BAT; a fixed one allocates its new blocks.
  const uint64_t big = subformat() == "fixed" ? 6 * kBlock : (200ull << 30) + 512;
  ASSERT_OK(image->resize(5 * kBlock));
  ASSERT_OK(image->resize(big));
  EXPECT_EQ(image->size(), big);
  ASSERT_OK(image->write(big - 512, pattern(0, 512, 6)));
  EXPECT_FALSE(image->resize(kBlock).ok());
  image.reset();
  image = open_ok(path_, true);
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(image->size(), big);
  std::vector<uint8_t> head(3 * kBlock), tail(512), middle(kBlock);
  ASSERT_OK(image->read(0, head));
  EXPECT_EQ(head, data);
  ASSERT_OK(image->read(big - 512, tail));
  EXPECT_EQ(tail, pattern(0, 512, 6));
  ASSERT_OK(image->read(4 * kBlock, middle));
  EXPECT_TRUE(std::all_of(middle.begin(), middle.end(), [](uint8_t b) { return b == 0; }));
  expect_clean(*image);
}

TEST_P(VhdxImageTest, CleanCloseLeavesAnEmptyLog) {
  {
    auto image = make(2 * kBlock);
    ASSERT_OK(image->write(0, pattern(0, 4096, 1)));
  }
  auto image = open_ok(path_, true);
  ASSERT_NE(image, nullptr);
  const auto* vhdx = static_cast<const vhdx::VhdxImage*>(image.get());
  EXPECT_TRUE(vhdx->header().log_guid.is_zero());
  // Both header slots are valid and the session advanced the sequence numbers.
  EXPECT_GE(vhdx->header().sequence_number, 4u);
}

TEST_P(VhdxImageTest, UncleanExitReplaysTheLog) {
  make(4 * kBlock).reset();
  const auto data = pattern(kBlock, 2 * kBlock, 8);
  // A writer that dies without closing: its BAT changes are in the log and (maybe) in place,
  // and the header still names the log.
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    OpenOptions options;
    auto image = open_image(path_, options);
    if (!image || !(*image)->write(kBlock, data) || !(*image)->flush()) _exit(1);
    _exit(0);  // no destructor: no clean close
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  if (subformat() == "fixed") {
    // Writes to a fixed image change no metadata: nothing to replay, a read-only open works.
    auto image = open_ok(path_, true);
    ASSERT_NE(image, nullptr);
    std::vector<uint8_t> read(2 * kBlock);
    ASSERT_OK(image->read(kBlock, read));
    EXPECT_EQ(read, data);
    return;
  }
  {
    // A read-only open reads through the log in memory, and notes it.
    auto image = open_ok(path_, true);
    ASSERT_NE(image, nullptr);
    std::vector<uint8_t> read(2 * kBlock);
    ASSERT_OK(image->read(kBlock, read));
    EXPECT_EQ(read, data);
    bool noted = false;
    for (const InfoField& field : image->info())
      noted |= field.value.find("in memory") != std::string::npos;
    EXPECT_TRUE(noted);
  }
  {
    auto image = open_ok(path_);
    ASSERT_NE(image, nullptr);
    auto report = image->check(false);
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(report->corruptions, 0u);
    EXPECT_EQ(report->corruptions_fixed, 1u);  // the replay
  }
  auto image = open_ok(path_, true);
  ASSERT_NE(image, nullptr);
  std::vector<uint8_t> read(2 * kBlock);
  ASSERT_OK(image->read(kBlock, read));
  EXPECT_EQ(read, data);
}

INSTANTIATE_TEST_SUITE_P(Subformats, VhdxImageTest, ::testing::Values("dynamic", "fixed"));

TEST(VhdxImage, DifferencingOverACellaParent) {
  TempDir dir;
  const std::string parent = dir.file("parent.vhdx"), child = dir.file("child.vhdx");
  const uint64_t size = 4 * kBlock;
  create_ok("vhdx", parent, size, {{"block_size", "1M"}});
  const auto base = pattern(0, size, 1);
  {
    auto image = open_ok(parent);
    ASSERT_OK(image->write(0, base));
  }
  create_ok("vhdx", child, 0, {}, "parent.vhdx");
  std::vector<uint8_t> expected = base;
  {
    auto image = open_ok(child);
    ASSERT_NE(image, nullptr);
    EXPECT_EQ(image->size(), size);
    ASSERT_NE(image->backing(), nullptr);
    EXPECT_EQ(read_all(*image), expected);
    // Partial sectors and a whole block: copied on write sector by sector.
    const auto a = pattern(0, 100, 2), b = pattern(0, kBlock, 3);
    ASSERT_OK(image->write(kBlock + 1000, a));
    std::memcpy(&expected[kBlock + 1000], a.data(), a.size());
    ASSERT_OK(image->write(2 * kBlock, b));
    std::memcpy(&expected[2 * kBlock], b.data(), b.size());
    EXPECT_EQ(read_all(*image), expected);
    // Zeroing hides the parent, sector-precise.
    ASSERT_OK(image->write_zeroes(3 * kBlock + 512, 2048, true));
    std::fill(expected.begin() + 3 * kBlock + 512, expected.begin() + 3 * kBlock + 2560, 0);
    EXPECT_EQ(read_all(*image), expected);
    auto extents = image->map(0, size);
    ASSERT_TRUE(extents.ok());
    bool own = false, inherited = false;
    for (const Extent& e : *extents) {
      own |= e.kind == ExtentKind::kData && e.depth == 0;
      inherited |= e.kind == ExtentKind::kData && e.depth == 1;
    }
    EXPECT_TRUE(own && inherited);
  }
  auto image = open_ok(child, true);
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(read_all(*image), expected);
  auto report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions + report->leaks, 0u);
  image.reset();
  // Writing to the parent changes its DataWriteGuid: the child refuses the changed parent.
  {
    auto opened = open_ok(parent);
    ASSERT_OK(opened->write(0, pattern(0, 512, 9)));
  }
  const std::string error = open_error(child);
  EXPECT_NE(error.find("DataWriteGuid"), std::string::npos) << error;
}

TEST(VhdxImage, RejectsBadCreateOptions) {
  TempDir dir;
  CreateOptions options;
  options.path = dir.file("x.vhdx");
  options.size = 1 << 20;
  for (const auto& [key, value] : std::map<std::string, std::string>{{"subformat", "sparse"},
                                                                     {"block_size", "512k"},
                                                                     {"block_size", "3M"},
                                                                     {"log_size", "1000"},
                                                                     {"block_state_zero", "maybe"},
                                                                     {"cluster_size", "1M"}}) {
    options.options = {{key, value}};
    EXPECT_FALSE(create_image("vhdx", options).ok()) << key << "=" << value;
  }
  options.options = {};
  options.size = 65ull << 40;
  EXPECT_FALSE(create_image("vhdx", options).ok());
}

}  // namespace
}  // namespace cella::block
