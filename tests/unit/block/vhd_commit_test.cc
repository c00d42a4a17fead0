// `commit` of differencing VHD and VHDX images through the ops layer: the parent receives the
// child's data, the child is emptied (make_empty) and still opens over the changed parent
// (for VHDX, whose parent_linkage must follow the parent's new DataWriteGuid).
#include <gtest/gtest.h>

#include <cstring>

#include "block/ops/commit.h"
#include "image_test_support.h"

namespace cella::block {
namespace {

using namespace testing;

constexpr uint64_t kSize = 4 << 20;

struct Variant {
  const char* format;
  std::map<std::string, std::string> options;
};

class DifferencingCommitTest : public ::testing::TestWithParam<Variant> {};

TEST_P(DifferencingCommitTest, CommitEmptiesTheChildIntoItsParent) {
  const Variant& v = GetParam();
  TempDir dir;
  const std::string ext = std::string(".") + v.format;
  const std::string parent = dir.file("parent" + ext), child = dir.file("child" + ext);
  create_ok(v.format, parent, kSize, v.options);
  std::vector<uint8_t> expected = pattern(0, kSize, 1);
  {
    auto image = open_ok(parent);
    ASSERT_NE(image, nullptr);
    ASSERT_OK(image->write(0, expected));
  }
  create_ok(v.format, child, 0, {}, "parent" + ext);
  {
    auto image = open_ok(child);
    ASSERT_NE(image, nullptr);
    EXPECT_EQ(image->backing_format(), v.format);
    EXPECT_EQ(image->backing_file(), parent);
    const auto a = pattern(0, 700, 2), b = pattern(0, 1 << 20, 3);
    ASSERT_OK(image->write(100000, a));  // partial sectors
    std::memcpy(&expected[100000], a.data(), a.size());
    ASSERT_OK(image->write(2 << 20, b));  // whole blocks
    std::memcpy(&expected[2 << 20], b.data(), b.size());
  }
  {
    OpenOptions options;
    options.backing_writable = true;
    auto image = open_image(child, options);
    ASSERT_TRUE(image.ok()) << image.error().message();
    ASSERT_OK(ops::commit(**image, {}));
  }
  auto image = open_ok(child, true);
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(read_all(*image), expected);
  auto extents = image->map(0, kSize);
  ASSERT_TRUE(extents.ok());
  for (const Extent& extent : *extents) {
    EXPECT_FALSE(extent.depth == 0 && extent.kind != ExtentKind::kUnallocated)
        << "the child still allocates " << extent.length << " bytes at " << extent.offset;
  }
  auto report = image->check(false);
  ASSERT_TRUE(report.ok());
  std::string messages;
  for (const std::string& line : report->messages) messages += line + "\n";
  EXPECT_EQ(report->corruptions + report->leaks, 0u) << messages;
  auto base = open_ok(parent, true);
  ASSERT_NE(base, nullptr);
  EXPECT_EQ(read_all(*base), expected);
}

INSTANTIATE_TEST_SUITE_P(
    Formats, DifferencingCommitTest,
    ::testing::Values(Variant{"vhd", {{"block_size", "64k"}, {"force_size", "on"}}},
                      Variant{"vhdx", {{"block_size", "1M"}}}),
    [](const ::testing::TestParamInfo<Variant>& param) { return std::string(param.param.format); });

}  // namespace
}  // namespace cella::block
