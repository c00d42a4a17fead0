// Corrupt and hostile VHDX files: an error naming the problem, never a crash, a hang, or an
// allocation sized by a header field.
#include <gtest/gtest.h>

#include <cstring>

#include "image_test_support.h"
#include "vhdx_fixture.h"

namespace cella::block {
namespace {

using namespace testing;
using namespace testing::vhdx_spec;

VhdxSpec small_spec() {
  VhdxSpec spec;
  spec.size = 3 * kMiB;
  spec.blocks[0] = {6, pattern(0, kMiB, 1), {}};
  spec.blocks[2] = {6, pattern(2 * kMiB, kMiB, 1), {}};
  return spec;
}

class VhdxHostileTest : public ::testing::Test {
 protected:
  std::string error_for(const Bytes& file, bool read_only = true, const std::string& format = "") {
    write_file(path_, file);
    return open_error(path_, read_only, format);
  }
  // Rewrites a metadata item's bytes (the table's offsets are the fixture's).
  static void patch_item(Bytes& file, const VhdxSpec& spec, int item, uint64_t at, uint64_t value,
                         int bytes) {
    uint64_t offset = 0;
    for (int i = 3; i >= 0; --i)
      offset = offset << 8 | file[spec.metadata_offset + 32 + 32 * item + 16 + i];
    put_le(file, spec.metadata_offset + offset + at, value, bytes);
  }
  static void patch_region_tables(Bytes& file, uint64_t at, uint64_t value, int bytes) {
    for (uint64_t table : {192 * 1024, 256 * 1024}) {
      put_le(file, table + at, value, bytes);
      put_crc(file, table, 64 * 1024, 4);
    }
  }
  TempDir dir_;
  std::string path_ = dir_.file("hostile.vhdx");
};

#define EXPECT_MENTIONS(text, word) \
  EXPECT_NE((text).find(word), std::string::npos) << "error: " << (text)

TEST_F(VhdxHostileTest, FileIdentifierAndHeaders) {
  const Bytes good = build(small_spec());
  EXPECT_MENTIONS(error_for(Bytes(4096, 0), true, "vhdx"), "too small");
  Bytes bad = good;
  bad[0] = 'x';
  EXPECT_MENTIONS(error_for(bad, true, "vhdx"), "vhdxfile");
  bad = good;
  bad[64 * 1024 + 200] ^= 1;
  bad[128 * 1024 + 200] ^= 1;
  const std::string both = error_for(bad);
  EXPECT_MENTIONS(both, "neither VHDX header");
  EXPECT_MENTIONS(both, "checksum");
  // One damaged header: the other is used, and check reports it.
  bad = good;
  bad[128 * 1024 + 200] ^= 1;
  write_file(path_, bad);
  {
    auto image = open_ok(path_, true);
    ASSERT_NE(image, nullptr);
    EXPECT_EQ(read_all(*image)[0], pattern(0, 1, 1)[0]);
    auto report = image->check(false);
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(report->corruptions, 1u);
  }
  {
    auto image = open_ok(path_);
    auto report = image->check(true);
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(report->corruptions_fixed, 1u);
  }
  auto image = open_ok(path_, true);
  auto report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions, 0u);
  // Header fields: version, log placement.
  for (const auto& [at, value, word] : std::vector<std::tuple<int, uint64_t, const char*>>{
           {66, 2, "version"}, {72, 1536 * 1024, "1 MiB"}, {72, 1ull << 40, "beyond the end"}}) {
    bad = good;
    for (uint64_t header : {64 * 1024, 128 * 1024}) {
      put_le(bad, header + at, value, at == 66 ? 2 : 8);
      put_crc(bad, header, 4096, 4);
    }
    EXPECT_MENTIONS(error_for(bad), word);
  }
}

TEST_F(VhdxHostileTest, RegionTables) {
  const Bytes good = build(small_spec());
  Bytes bad = good;
  bad[192 * 1024 + 100] ^= 1;
  bad[256 * 1024 + 100] ^= 1;
  EXPECT_MENTIONS(error_for(bad), "neither region table");
  bad = good;
  patch_region_tables(bad, 8, 3000, 4);  // entry count
  EXPECT_MENTIONS(error_for(bad), "2047");
  bad = good;
  patch_region_tables(bad, 32, kMiB, 8);  // the BAT region on the log
  EXPECT_MENTIONS(error_for(bad), "overlaps");
  bad = good;
  patch_region_tables(bad, 32, 1ull << 45, 8);  // far past the end
  EXPECT_MENTIONS(error_for(bad), "beyond the end");
  bad = good;
  patch_region_tables(bad, 16, 0x12, 1);  // the BAT GUID becomes an unknown required region
  EXPECT_MENTIONS(error_for(bad), "not supported");
}

TEST_F(VhdxHostileTest, MetadataValues) {
  const VhdxSpec spec = small_spec();
  const Bytes good = build(spec);
  struct Case {
    int item;
    uint64_t at;
    uint64_t value;
    int bytes;
    const char* word;
  } cases[] = {
      {0, 0, 3 * kMiB, 4, "block size"},           // not a power of two
      {0, 0, 512 * 1024, 4, "block size"},         // below 1 MiB
      {1, 0, 0, 8, "virtual disk size"},           // zero
      {1, 0, 1000, 8, "virtual disk size"},        // not a sector multiple
      {1, 0, 1ull << 50, 8, "virtual disk size"},  // above 64 TiB
      {1, 0, 1ull << 40, 8, "BAT region"},         // a BAT far larger than its region
      {2, 0, 1024, 4, "sector size"},
      {0, 4, 2, 4, "parent locator"},  // has_parent without a locator
  };
  for (const Case& c : cases) {
    Bytes bad = good;
    patch_item(bad, spec, c.item, c.at, c.value, c.bytes);
    EXPECT_MENTIONS(error_for(bad), c.word);
  }
  Bytes bad = good;
  put_le(bad, spec.metadata_offset + 32 + 32 * 3 + 24, 4, 4);  // physical sector: still required
  bad[spec.metadata_offset + 32 + 32 * 3] ^= 0x55;             // ... but of an unknown item
  EXPECT_MENTIONS(error_for(bad), "not supported");
  bad = good;
  put_le(bad, spec.metadata_offset + 32 + 16, 10, 4);  // an item inside the table
  EXPECT_MENTIONS(error_for(bad), "outside the metadata region");
  bad = good;
  put_le(bad, spec.metadata_offset + 10, 5000, 2);  // entry count
  EXPECT_MENTIONS(error_for(bad), "2047");
}

TEST_F(VhdxHostileTest, BatEntries) {
  const VhdxSpec spec = small_spec();
  const Bytes good = build(spec);
  auto entry = [&](const Bytes& file, uint64_t block) {
    uint64_t value = 0;
    for (int i = 7; i >= 0; --i) value = value << 8 | file[spec.bat_offset + 8 * block + i];
    return value;
  };
  const uint64_t block2 = entry(good, 2) & ~uint64_t{0xFFFFF};
  struct Case {
    uint64_t block;
    uint64_t value;
    const char* word;
    uint64_t healthy;
  } cases[] = {
      {1, 5, "reserved", 0},  // a reserved state
      {1, (1ull << 40) | 6, "outside the file", 0},
      {1, block2 | 6, "overlaps", 0},           // the same space as block 2
      {1, spec.bat_offset | 6, "overlaps", 0},  // on the BAT itself
      {1, 7 | block2, "partially present", 0},  // a non-differencing image
  };
  for (const Case& c : cases) {
    Bytes bad = good;
    put_le(bad, spec.bat_offset + 8 * c.block, c.value, 8);
    write_file(path_, bad);
    auto image = open_ok(path_, true);
    ASSERT_NE(image, nullptr);
    std::vector<uint8_t> buffer(4096);
    auto result = image->read(c.block * kMiB, buffer);
    ASSERT_FALSE(result.ok()) << c.word;
    EXPECT_MENTIONS(result.error().message(), "corrupt");
    ASSERT_OK(image->read(c.healthy * kMiB, buffer));
    EXPECT_EQ(buffer, pattern(c.healthy * kMiB, 4096, 1));
    auto report = image->check(false);
    ASSERT_TRUE(report.ok());
    EXPECT_GE(report->corruptions, 1u);
    std::string all;
    for (const auto& message : report->messages) all += message + "; ";
    EXPECT_MENTIONS(all, c.word);
    image.reset();
    EXPECT_MENTIONS(open_error(path_, false), c.word);
  }
}

TEST_F(VhdxHostileTest, ParentLocators) {
  VhdxSpec child;
  child.size = kMiB;
  child.has_parent = true;
  child.locator = {{"parent_linkage", "{04030201-0605-0807-090A-0B0C0D0E0F10}"},
                   {"relative_path", ".\\hostile.vhdx"}};
  // Its own parent: a loop.
  EXPECT_MENTIONS(error_for(build(child)), "loops");
  child.locator = {{"relative_path", ".\\nothing.vhdx"}};
  EXPECT_MENTIONS(error_for(build(child)), "parent_linkage");
  child.locator = {{"parent_linkage", "not a guid"}, {"relative_path", "x"}};
  EXPECT_MENTIONS(error_for(build(child)), "not a GUID");
  child.locator = {{"parent_linkage", "{04030201-0605-0807-090A-0B0C0D0E0F10}"},
                   {"relative_path", "C:\\vms\\base.vhdx"}};
  const std::string missing = error_for(build(child));
  EXPECT_MENTIONS(missing, "parent image not found");
  EXPECT_MENTIONS(missing, "base.vhdx");
  // A key whose offset points outside the item.
  Bytes bad = build(child);
  uint64_t offset = 0;
  for (int i = 3; i >= 0; --i)
    offset = offset << 8 | bad[child.metadata_offset + 32 + 32 * 4 + 16 + i];
  put_le(bad, child.metadata_offset + offset + 20, 0x7FFFFFFF, 4);
  EXPECT_MENTIONS(error_for(bad), "outside the item");
}

}  // namespace
}  // namespace cella::block
