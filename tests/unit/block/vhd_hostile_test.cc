// Corrupt and hostile VHD files: each gives an error naming the problem, never a crash, a hang
// or an allocation sized by a header field.
#include <gtest/gtest.h>

#include <cstring>

#include "image_test_support.h"
#include "vhd_fixture.h"

namespace cella::block {
namespace {

using namespace testing;
using namespace testing::vhd_spec;

constexpr uint32_t kBlock = 4096;

DynamicSpec small_dynamic() {
  DynamicSpec spec;
  spec.footer.size = 4 * kBlock;
  spec.block_size = kBlock;
  spec.blocks[0] = {std::vector<bool>(8, true), pattern(0, kBlock, 1)};
  spec.blocks[2] = {std::vector<bool>(8, true), pattern(2 * kBlock, kBlock, 1)};
  return spec;
}

// Rewrites header field bytes and fixes the header checksum, as a hostile writer would.
void patch_header(std::vector<uint8_t>& file, size_t field, uint64_t value, int bytes) {
  put_be(file, 512 + field, value, bytes);
  put_checksum(file, 512, 1024, 36);
}

class VhdHostileTest : public ::testing::Test {
 protected:
  std::string error_for(const std::vector<uint8_t>& file, bool read_only = true) {
    write_file(path_, file);
    return open_error(path_, read_only, "vhd");
  }
  TempDir dir_;
  std::string path_ = dir_.file("hostile.vhd");
};

#define EXPECT_MENTIONS(text, word) \
  EXPECT_NE((text).find(word), std::string::npos) << "error: " << (text)

TEST_F(VhdHostileTest, TooSmallOrNoFooter) {
  EXPECT_MENTIONS(error_for(std::vector<uint8_t>(100, 0)), "too small");
  EXPECT_MENTIONS(error_for(std::vector<uint8_t>(4096, 0)), "conectix");
}

TEST_F(VhdHostileTest, BadChecksumsAreNamed) {
  std::vector<uint8_t> fixed = build_fixed({8192}, pattern(0, 8192, 1));
  fixed[fixed.size() - 512 + 100] ^= 1;  // reserved byte: only the checksum catches it
  EXPECT_MENTIONS(error_for(fixed), "footer checksum");

  std::vector<uint8_t> dynamic = build_dynamic(small_dynamic());
  dynamic[512 + 200] ^= 1;  // parent name area of the header
  EXPECT_MENTIONS(error_for(dynamic), "dynamic header checksum");
}

TEST_F(VhdHostileTest, DamagedEndFooterFallsBackToTheCopy) {
  std::vector<uint8_t> file = build_dynamic(small_dynamic());
  std::memset(&file[file.size() - 512], 0xEE, 512);
  write_file(path_, file);
  {
    auto image = open_ok(path_, true, "vhd");
    ASSERT_NE(image, nullptr);
    std::vector<uint8_t> block(kBlock);
    ASSERT_OK(image->read(0, block));
    EXPECT_EQ(block, pattern(0, kBlock, 1));
    auto report = image->check(false);
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(report->corruptions, 1u);
  }
  // A read-write open puts a footer back at the end; the image is then clean.
  { auto image = open_ok(path_, false, "vhd"); }
  auto image = open_ok(path_, true, "vhd");
  ASSERT_NE(image, nullptr);
  auto report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions, 0u);
  const auto after = read_host_file(path_);
  EXPECT_EQ(0, std::memcmp(&after[after.size() - 512], "conectix", 8));
}

TEST_F(VhdHostileTest, HeaderFieldsOutOfRange) {
  std::vector<uint8_t> file = build_dynamic(small_dynamic());
  std::vector<uint8_t> bad = file;
  patch_header(bad, 32, 0, 4);  // block size 0
  EXPECT_MENTIONS(error_for(bad), "block size");
  bad = file;
  patch_header(bad, 32, 1000, 4);  // not a sector multiple
  EXPECT_MENTIONS(error_for(bad), "block size");
  bad = file;
  patch_header(bad, 28, 1, 4);  // a BAT too small for the disk
  EXPECT_MENTIONS(error_for(bad), "covering");
  bad = file;
  patch_header(bad, 28, 0xFFFFFFFF, 4);  // 16 GiB of BAT in a small file
  EXPECT_MENTIONS(error_for(bad), "beyond the end of the file");
  bad = file;
  patch_header(bad, 16, 1ull << 40, 8);  // BAT offset past the end
  EXPECT_MENTIONS(error_for(bad), "beyond the end of the file");

  // The footer's Data Offset outside the file.
  FooterSpec footer = small_dynamic().footer;
  bad = file;
  const auto moved = footer_bytes(footer, 1ull << 50);
  std::memcpy(&bad[0], moved.data(), 512);
  std::memcpy(&bad[bad.size() - 512], moved.data(), 512);
  EXPECT_MENTIONS(error_for(bad), "Data Offset");
}

TEST_F(VhdHostileTest, UnknownTypesAndVersions) {
  FooterSpec footer{8192};
  footer.disk_type = 5;
  EXPECT_MENTIONS(error_for(build_fixed(footer, {})), "disk type");
  footer.disk_type = 2;
  footer.version = 0x00020000;
  EXPECT_MENTIONS(error_for(build_fixed(footer, {})), "version");
  footer.version = 0x00010000;
  footer.size = 1ull << 40;  // more data than the file holds
  std::vector<uint8_t> file(8192, 0);
  const auto bytes = footer_bytes(footer, ~0ull);
  file.insert(file.end(), bytes.begin(), bytes.end());
  EXPECT_MENTIONS(error_for(file), "only");
}

TEST_F(VhdHostileTest, BatEntriesOutOfRangeOrOverlapping) {
  const std::vector<uint8_t> file = build_dynamic(small_dynamic());
  const uint32_t block0 = bat_entry(file, 0), block2 = bat_entry(file, 2);
  struct Case {
    uint32_t block;
    uint32_t sector;
    const char* word;
    uint32_t healthy;  // a block the problem does not touch
  } cases[] = {
      {1, 0x7FFFFFF0, "beyond the end", 2},  // far past the file
      {1, block0 + 1, "beyond the end", 2},  // block 0 is last: this one runs into the footer
      {1, block2 + 1, "overlaps", 3},        // across blocks 2 and 0 (3 is unallocated)
      {1, 2, "overlaps", 0},                 // on the dynamic header, the BAT and block 2
      {3, block0, "overlaps", 2},            // the same block twice
  };
  for (const Case& c : cases) {
    std::vector<uint8_t> bad = file;
    const uint64_t table = 1536;
    put_be(bad, table + 4 * c.block, c.sector, 4);
    write_file(path_, bad);
    // Read-only: opens, and the bad block's reads fail with a message; others still read.
    auto image = open_ok(path_, true, "vhd");
    ASSERT_NE(image, nullptr);
    std::vector<uint8_t> buffer(kBlock);
    auto result = image->read(c.block * kBlock, buffer);
    ASSERT_FALSE(result.ok());
    EXPECT_MENTIONS(result.error().message(), "corrupt");
    ASSERT_OK(image->read(c.healthy * kBlock, buffer));
    const bool allocated = c.healthy == 0 || c.healthy == 2;
    EXPECT_EQ(buffer,
              allocated ? pattern(c.healthy * kBlock, kBlock, 1) : std::vector<uint8_t>(kBlock, 0));
    auto report = image->check(false);
    ASSERT_TRUE(report.ok());
    EXPECT_GE(report->corruptions, 1u);
    ASSERT_FALSE(report->messages.empty());
    bool named = false;
    for (const auto& message : report->messages) named |= message.find(c.word) != std::string::npos;
    EXPECT_TRUE(named) << c.word << ": " << report->messages.front();
    image.reset();
    // Read-write: refused, naming the problem.
    EXPECT_MENTIONS(open_error(path_, false, "vhd"), c.word);
  }
}

TEST_F(VhdHostileTest, EntriesPastTheDiskAreIgnored) {
  // A table far larger than the disk, its spare entries naming sector 0 (the footer copy) and
  // two blocks of data (2 and 3): the disk ends after block 1, so none of them count, and a
  // grown disk reads zeros where they point.
  DynamicSpec spec = small_dynamic();
  spec.footer.size = 2 * kBlock;
  spec.max_table_entries = 1 << 16;
  spec.blocks[3] = {std::vector<bool>(8, true), pattern(3 * kBlock, kBlock, 1)};
  std::vector<uint8_t> file = build_dynamic(spec);
  for (uint32_t entry = 4; entry < spec.max_table_entries; ++entry) {
    put_be(file, 1536 + 4 * entry, 0, 4);
  }
  write_file(path_, file);
  auto image = open_ok(path_, false, "vhd");
  ASSERT_NE(image, nullptr);
  auto report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions, 0u);
  EXPECT_EQ(report->leaks, 2u);  // blocks 2 and 3: nothing in the disk references them
  ASSERT_OK(image->resize(4 * kBlock));
  std::vector<uint8_t> expected = pattern(0, kBlock, 1);
  expected.resize(4 * kBlock, 0);
  EXPECT_EQ(read_all(*image), expected);
  image.reset();
  image = open_ok(path_, true, "vhd");
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(read_all(*image), expected);
  report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions, 0u);
}

TEST_F(VhdHostileTest, LocatorsOutOfRange) {
  DynamicSpec spec = small_dynamic();
  spec.footer.disk_type = 4;
  spec.locators = {{0x57327275, utf16le(".\\p.vhd")}};
  std::vector<uint8_t> file = build_dynamic(spec);
  std::vector<uint8_t> bad = file;
  patch_header(bad, 576 + 8, 0x7FFFFFFF, 4);  // data length
  EXPECT_MENTIONS(error_for(bad), "parent locator 1");
  bad = file;
  patch_header(bad, 576 + 16, 1ull << 45, 8);  // data offset
  EXPECT_MENTIONS(error_for(bad), "parent locator 1");
}

TEST_F(VhdHostileTest, SavedStateIsReadOnly) {
  FooterSpec footer{8192};
  footer.disk_type = 2;
  footer.saved_state = 1;
  write_file(path_, build_fixed(footer, {}));
  EXPECT_NE(open_ok(path_, true, "vhd"), nullptr);
  EXPECT_MENTIONS(open_error(path_, false, "vhd"), "saved state");
}

TEST_F(VhdHostileTest, LeakedBlockIsReportedAndRepaired) {
  // A block written past the last one but never named in the BAT (a crash between the two).
  std::vector<uint8_t> file = build_dynamic(small_dynamic());
  const std::vector<uint8_t> footer(file.end() - 512, file.end());
  file.resize(file.size() - 512);
  const auto junk = pattern(0, 512 + kBlock, 9);
  file.insert(file.end(), junk.begin(), junk.end());
  file.insert(file.end(), footer.begin(), footer.end());
  write_file(path_, file);
  {
    auto image = open_ok(path_, true, "vhd");
    ASSERT_NE(image, nullptr);
    auto report = image->check(false);
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(report->corruptions, 0u);
    EXPECT_EQ(report->leaks, 1u);
  }
  {
    auto image = open_ok(path_, false, "vhd");
    ASSERT_NE(image, nullptr);
    auto report = image->check(true);
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(report->leaks_fixed, 1u);
  }
  auto image = open_ok(path_, true, "vhd");
  ASSERT_NE(image, nullptr);
  auto report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->leaks + report->corruptions, 0u);
  EXPECT_EQ(std::filesystem::file_size(path_), file.size() - 512 - kBlock);
  std::vector<uint8_t> block(kBlock);
  ASSERT_OK(image->read(2 * kBlock, block));
  EXPECT_EQ(block, pattern(2 * kBlock, kBlock, 1));
}

}  // namespace
}  // namespace cella::block
