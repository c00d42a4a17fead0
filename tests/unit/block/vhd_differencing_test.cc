// Differencing VHDs against hand-built fixtures ([VHD] "Implementing a Differencing Hard
// Disk"): sector-granular fall-through, parent locators, identity checks, loops, and writes.
#include <gtest/gtest.h>

#include <cstring>

#include "image_test_support.h"
#include "vhd_fixture.h"

namespace cella::block {
namespace {

using namespace testing;
using namespace testing::vhd_spec;

constexpr uint32_t kBlock = 4096;  // 8 sectors per block
constexpr uint64_t kSize = 6 * kBlock;
constexpr uint32_t kW2ru = 0x57327275, kW2ku = 0x57326B75, kMacX = 0x4D616358;

Id id(uint8_t seed) {
  Id value{};
  for (int i = 0; i < 16; ++i) value[i] = static_cast<uint8_t>(seed * 17 + i);
  return value;
}

// A dynamic parent with blocks 0, 1 and 3 fully present (pattern 1); block 2 absent.
DynamicSpec parent_spec() {
  DynamicSpec spec;
  spec.footer.size = kSize;
  spec.footer.unique_id = id(1);
  spec.block_size = kBlock;
  for (uint32_t block : {0u, 1u, 3u}) {
    spec.blocks[block] = {std::vector<bool>(8, true), pattern(block * kBlock, kBlock, 1)};
  }
  return spec;
}

// A differencing child: block 1 has the odd sectors present (pattern 2), block 2 sectors 0-3.
DynamicSpec child_spec(std::vector<LocatorSpec> locators, std::string parent_name = "") {
  DynamicSpec spec;
  spec.footer.size = kSize;
  spec.footer.disk_type = 4;
  spec.footer.unique_id = id(2);
  spec.block_size = kBlock;
  spec.parent_id = id(1);
  spec.parent_timestamp = parent_spec().footer.timestamp;
  spec.parent_name = std::move(parent_name);
  spec.locators = std::move(locators);
  std::vector<bool> odd(8);
  for (int s = 0; s < 8; ++s) odd[s] = s % 2 == 1;
  spec.blocks[1] = {odd, pattern(kBlock, kBlock, 2)};
  spec.blocks[2] = {{true, true, true, true, false, false, false, false},
                    pattern(2 * kBlock, kBlock, 2)};
  return spec;
}

// What the child reads: per sector, its own data where its bitmap says so, else the parent's.
std::vector<uint8_t> expected_child() {
  std::vector<uint8_t> bytes(kSize, 0);
  for (uint32_t block : {0u, 1u, 3u}) {
    const auto data = pattern(block * kBlock, kBlock, 1);
    std::memcpy(&bytes[block * kBlock], data.data(), kBlock);
  }
  const auto own1 = pattern(kBlock, kBlock, 2), own2 = pattern(2 * kBlock, kBlock, 2);
  for (int s = 1; s < 8; s += 2) std::memcpy(&bytes[kBlock + s * 512], &own1[s * 512], 512);
  std::memcpy(&bytes[2 * kBlock], own2.data(), 4 * 512);
  return bytes;
}

class VhdDifferencingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(std::filesystem::path(dir_.path()) / "base");
    std::filesystem::create_directories(std::filesystem::path(dir_.path()) / "work");
    parent_ = dir_.file("base/parent.vhd");
    child_ = dir_.file("work/child.vhd");
    write_file(parent_, build_dynamic(parent_spec()));
  }
  TempDir dir_;
  std::string parent_, child_;
};

TEST_F(VhdDifferencingTest, ReadsFallThroughPerSector) {
  write_file(child_, build_dynamic(child_spec({{kW2ru, utf16le("..\\base\\parent.vhd")}})));
  auto image = open_ok(child_, true);
  ASSERT_NE(image, nullptr);
  ASSERT_NE(image->backing(), nullptr);
  EXPECT_EQ(read_all(*image), expected_child());
  // Unaligned reads across sector and block boundaries.
  const auto expected = expected_child();
  for (uint64_t offset : {1ull, 511ull, 513ull, kBlock - 3ull, 2ull * kBlock + 2047}) {
    std::vector<uint8_t> piece(1500);
    ASSERT_OK(image->read(offset, piece));
    EXPECT_EQ(0, std::memcmp(piece.data(), &expected[offset], piece.size())) << offset;
  }
  auto extents = image->map(0, kSize);
  ASSERT_TRUE(extents.ok());
  int own = 0, parent = 0;
  for (const Extent& extent : *extents) {
    if (extent.kind == ExtentKind::kData && extent.depth == 0) ++own;
    if (extent.kind == ExtentKind::kData && extent.depth == 1) ++parent;
  }
  EXPECT_EQ(own, 5);  // sectors 1, 3, 5, 7 of block 1, sectors 0-3 of block 2
  EXPECT_GE(parent, 4);
}

TEST_F(VhdDifferencingTest, LocatorsInOrderOfPreference) {
  const std::string absolute = std::filesystem::absolute(parent_).string();
  // A Windows drive path cannot exist here: the MacX URL (with an escaped character) is used.
  std::filesystem::rename(parent_, dir_.file("base/par ent.vhd"));
  const std::string renamed = dir_.file("base/par ent.vhd");
  std::string url = "file://" + std::filesystem::absolute(dir_.file("base/par%20ent.vhd")).string();
  write_file(child_,
             build_dynamic(child_spec({{kW2ku, utf16le("C:\\vms\\par ent.vhd")},
                                       {kMacX, std::vector<uint8_t>(url.begin(), url.end())}})));
  auto image = open_ok(child_, true);
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(read_all(*image), expected_child());

  // Only the Parent Unicode Name, resolved in the child's folder.
  std::filesystem::rename(renamed, dir_.file("work/parent.vhd"));
  write_file(child_, build_dynamic(child_spec({}, "parent.vhd")));
  image = open_ok(child_, true);
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(read_all(*image), expected_child());

  // Nothing resolves: the error lists what was tried.
  write_file(child_, build_dynamic(child_spec({{kW2ru, utf16le(".\\missing.vhd")}}, "gone.vhd")));
  const std::string error = open_error(child_);
  EXPECT_NE(error.find("parent image not found"), std::string::npos) << error;
  EXPECT_NE(error.find("missing.vhd"), std::string::npos) << error;
  EXPECT_NE(error.find("gone.vhd"), std::string::npos) << error;
}

TEST_F(VhdDifferencingTest, ParentIdentityIsChecked) {
  DynamicSpec spec = child_spec({{kW2ru, utf16le("..\\base\\parent.vhd")}});
  spec.parent_id = id(9);
  write_file(child_, build_dynamic(spec));
  const std::string error = open_error(child_);
  EXPECT_NE(error.find("unique id"), std::string::npos) << error;

  // A different time stamp is reported but does not prevent opening.
  spec = child_spec({{kW2ru, utf16le("..\\base\\parent.vhd")}});
  spec.parent_timestamp = 12345;
  write_file(child_, build_dynamic(spec));
  auto image = open_ok(child_, true);
  ASSERT_NE(image, nullptr);
  bool warned = false;
  for (const InfoField& field : image->info()) warned |= field.key == "warning";
  EXPECT_TRUE(warned);
}

TEST_F(VhdDifferencingTest, LoopsAreRefused) {
  // A child naming itself as parent, with its own id as the parent id.
  DynamicSpec self = child_spec({{kW2ru, utf16le(".\\child.vhd")}});
  self.parent_id = self.footer.unique_id;
  write_file(child_, build_dynamic(self));
  std::string error = open_error(child_);
  EXPECT_NE(error.find("loops"), std::string::npos) << error;

  // a -> b -> a.
  DynamicSpec a = child_spec({{kW2ru, utf16le(".\\b.vhd")}});
  DynamicSpec b = child_spec({{kW2ru, utf16le(".\\a.vhd")}});
  a.footer.unique_id = id(3);
  b.footer.unique_id = id(4);
  a.parent_id = id(4);
  b.parent_id = id(3);
  write_file(dir_.file("work/a.vhd"), build_dynamic(a));
  write_file(dir_.file("work/b.vhd"), build_dynamic(b));
  error = open_error(dir_.file("work/a.vhd"));
  EXPECT_NE(error.find("loops"), std::string::npos) << error;
}

TEST_F(VhdDifferencingTest, WritesCopySectorsOnWrite) {
  write_file(child_, build_dynamic(child_spec({{kW2ru, utf16le("..\\base\\parent.vhd")}})));
  std::vector<uint8_t> expected = expected_child();
  {
    auto image = open_ok(child_);
    ASSERT_NE(image, nullptr);
    // Block 3 is absent in the child: a 100-byte write in the middle of sector 2 must bring
    // the rest of that sector from the parent and mark only sector 2.
    const auto data = pattern(0, 100, 7);
    ASSERT_OK(image->write(3 * kBlock + 2 * 512 + 50, data));
    std::memcpy(&expected[3 * kBlock + 2 * 512 + 50], data.data(), data.size());
    // Block 1: write across a present and an absent sector.
    const auto more = pattern(0, 600, 8);
    ASSERT_OK(image->write(kBlock + 300, more));
    std::memcpy(&expected[kBlock + 300], more.data(), more.size());
    ASSERT_OK(image->flush());
    EXPECT_EQ(read_all(*image), expected);
  }
  const std::vector<uint8_t> file = read_host_file(child_);
  for (uint32_t s = 0; s < 8; ++s) {
    EXPECT_EQ(sector_present(file, 3, s), s == 2) << "block 3 sector " << s;
  }
  EXPECT_TRUE(sector_present(file, 1, 0));  // bytes 300-511 written: sector 0 now present
  EXPECT_TRUE(sector_present(file, 1, 1));
  EXPECT_FALSE(sector_present(file, 1, 2));
  auto image = open_ok(child_, true);
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(read_all(*image), expected);
  auto report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions + report->leaks, 0u);
}

TEST_F(VhdDifferencingTest, CreatedByCellaOverAHandBuiltParent) {
  CreateOptions options;
  options.path = child_;
  options.backing_file = "../base/parent.vhd";
  ASSERT_OK(create_image("vhd", options));
  const std::vector<uint8_t> file = read_host_file(child_);
  // The footer says differencing (type 4), and the header names the parent's unique id.
  EXPECT_EQ(file[63], 4);
  EXPECT_EQ(0, std::memcmp(&file[512 + 40], id(1).data(), 16));
  // The first locator is W2ru with the relative path, UTF-16LE.
  EXPECT_EQ(0, std::memcmp(&file[512 + 576], "W2ru", 4));
  uint64_t offset = 0;
  for (int i = 0; i < 8; ++i) offset = offset << 8 | file[512 + 576 + 16 + i];
  const auto expected_path = utf16le("..\\base\\parent.vhd");
  EXPECT_EQ(0, std::memcmp(&file[offset], expected_path.data(), expected_path.size()));

  auto image = open_ok(child_);
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(image->size(), kSize);
  std::vector<uint8_t> expected(kSize, 0);
  for (uint32_t block : {0u, 1u, 3u}) {
    const auto data = pattern(block * kBlock, kBlock, 1);
    std::memcpy(&expected[block * kBlock], data.data(), kBlock);
  }
  EXPECT_EQ(read_all(*image), expected);
  const auto data = pattern(0, 3000, 5);
  ASSERT_OK(image->write(kBlock - 1000, data));
  std::memcpy(&expected[kBlock - 1000], data.data(), data.size());
  EXPECT_EQ(read_all(*image), expected);
  // Discarding the child's blocks shows the parent again.
  ASSERT_OK(image->discard(0, 2 * kBlock));
  for (uint32_t block : {0u, 1u}) {
    const auto original = pattern(block * kBlock, kBlock, 1);
    std::memcpy(&expected[block * kBlock], original.data(), kBlock);
  }
  EXPECT_EQ(read_all(*image), expected);
}

}  // namespace
}  // namespace cella::block
