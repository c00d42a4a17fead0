// VMDK disks created, written and read back by Cella alone: every subformat, delta disks,
// discard and zero writes, the stream writer, and the allocation map.
#include <gtest/gtest.h>

#include <cstring>

#include "block/vmdk/vmdk_image.h"
#include "disk_test_util.h"

namespace cella::block {
namespace {

using testing::error_of;
using testing::pattern;
using testing::read_all;
using testing::TempDir;

constexpr uint64_t kGrain = 64 * 1024;

Result<void> create(const std::string& path, uint64_t size,
                    std::map<std::string, std::string> options = {},
                    const std::string& backing = "") {
  return testing::create_file("vmdk", path, size, std::move(options), backing);
}

// Writes the same data through the image and into `expected`.
void write_both(BlockImage& image, std::vector<uint8_t>& expected, uint64_t offset,
                const std::vector<uint8_t>& data) {
  ASSERT_TRUE(image.write(offset, data).ok());
  std::memcpy(expected.data() + offset, data.data(), data.size());
}

class VmdkSubformat : public ::testing::TestWithParam<const char*> {};

TEST_P(VmdkSubformat, WritesReadBackAfterReopen) {
  TempDir dir;
  const std::string path = dir.file("disk.vmdk");
  // Not a multiple of the grain size, nor of 2 GiB extents for the split subformats.
  const uint64_t size = 5 * kGrain * 16 + 3 * 512;
  ASSERT_TRUE(create(path, size, {{"subformat", GetParam()}}).ok());
  std::vector<uint8_t> expected(size, 0);
  {
    auto image = testing::open_ok(path);
    ASSERT_TRUE(image);
    EXPECT_EQ(image->size(), size);
    EXPECT_EQ(image->format_name(), "vmdk");
    write_both(*image, expected, 0, pattern(100, 1));                  // part of grain 0
    write_both(*image, expected, kGrain - 7, pattern(20, 2));          // straddles grains
    write_both(*image, expected, 3 * kGrain, pattern(4 * kGrain, 3));  // whole grains
    write_both(*image, expected, size - 1000, pattern(1000, 4));       // the last partial grain
    write_both(*image, expected, 50, pattern(10, 5));                  // rewrite inside grain 0
    EXPECT_EQ(read_all(*image), expected);
    ASSERT_TRUE(image->flush().ok());
  }
  auto image = testing::open_ok(path, true);
  ASSERT_TRUE(image);
  EXPECT_EQ(read_all(*image), expected);
  auto report = image->check(false);
  ASSERT_TRUE(report.ok()) << error_of(report);
  EXPECT_EQ(report->corruptions, 0u);
  EXPECT_EQ(report->leaks, 0u);
}

INSTANTIATE_TEST_SUITE_P(All, VmdkSubformat,
                         ::testing::Values("monolithicSparse", "monolithicFlat",
                                           "twoGbMaxExtentSparse", "twoGbMaxExtentFlat"));

TEST(VmdkImage, SplitSubformatsUseTwoGibExtents) {
  TempDir dir;
  const uint64_t size = (uint64_t{5} << 30) + 4096;
  ASSERT_TRUE(create(dir.file("d.vmdk"), size, {{"subformat", "twoGbMaxExtentSparse"}}).ok());
  auto image = testing::open_ok(dir.file("d.vmdk"));
  ASSERT_TRUE(image);
  EXPECT_EQ(image->size(), size);
  // The write crosses from the first extent file into the second.
  const auto data = pattern(8192, 7);
  ASSERT_TRUE(image->write((uint64_t{2} << 30) - 4096, data).ok());
  std::vector<uint8_t> back(data.size());
  ASSERT_TRUE(image->read((uint64_t{2} << 30) - 4096, back).ok());
  EXPECT_EQ(back, data);
  EXPECT_TRUE(std::filesystem::exists(dir.file("d-s003.vmdk")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("d-s004.vmdk")));
}

TEST(VmdkImage, MapReportsGrainsAndUnallocatedRanges) {
  TempDir dir;
  const std::string path = dir.file("m.vmdk");
  ASSERT_TRUE(create(path, 16 * kGrain).ok());
  auto image = testing::open_ok(path);
  ASSERT_TRUE(image->write(2 * kGrain, pattern(2 * kGrain, 1)).ok());
  auto map = image->map(0, image->size());
  ASSERT_TRUE(map.ok()) << error_of(map);
  ASSERT_EQ(map->size(), 3u);
  EXPECT_EQ((*map)[0].kind, ExtentKind::kUnallocated);
  EXPECT_EQ((*map)[0].length, 2 * kGrain);
  EXPECT_EQ((*map)[1].kind, ExtentKind::kData);
  EXPECT_EQ((*map)[1].length, 2 * kGrain);
  EXPECT_EQ((*map)[1].host_file, path);
  EXPECT_GE((*map)[1].host_offset, static_cast<int64_t>(kGrain));
  EXPECT_EQ((*map)[2].kind, ExtentKind::kUnallocated);
  EXPECT_EQ((*map)[2].offset, 4 * kGrain);
}

TEST(VmdkImage, ZeroedGrainsAndDiscardDeallocate) {
  TempDir dir;
  const std::string path = dir.file("z.vmdk");
  ASSERT_TRUE(create(path, 8 * kGrain, {{"zeroed_grain", "on"}}).ok());
  auto image = testing::open_ok(path);
  ASSERT_TRUE(image->write(0, pattern(8 * kGrain, 3)).ok());
  ASSERT_TRUE(image->flush().ok());
  std::vector<uint8_t> expected = pattern(8 * kGrain, 3);
  // Zero whole grains 1-2 and a partial range inside grain 5; discard grain 7.
  ASSERT_TRUE(image->write_zeroes(kGrain, 2 * kGrain, true).ok());
  ASSERT_TRUE(image->write_zeroes(5 * kGrain + 100, 200, true).ok());
  ASSERT_TRUE(image->discard(7 * kGrain, kGrain).ok());
  std::memset(expected.data() + kGrain, 0, 2 * kGrain);
  std::memset(expected.data() + 5 * kGrain + 100, 0, 200);
  std::memset(expected.data() + 7 * kGrain, 0, kGrain);
  EXPECT_EQ(read_all(*image), expected);
  auto map = image->map(0, image->size());
  ASSERT_TRUE(map.ok());
  EXPECT_EQ((*map)[1].kind, ExtentKind::kZero);
  EXPECT_EQ((*map)[1].offset, kGrain);
  EXPECT_EQ((*map)[1].length, 2 * kGrain);
  EXPECT_EQ(map->back().kind, ExtentKind::kUnallocated);
  ASSERT_TRUE(image->flush().ok());
  auto report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions, 0u);
  EXPECT_EQ(report->leaks, 0u) << (report->messages.empty() ? "" : report->messages[0]);
  image.reset();
  auto reopened = testing::open_ok(path, true);
  EXPECT_EQ(read_all(*reopened), expected);
}

TEST(VmdkImage, DeltaDiskReadsThroughAndCopiesPartialGrains) {
  TempDir dir;
  const uint64_t size = 6 * kGrain + 512;
  ASSERT_TRUE(create(dir.file("base.vmdk"), size).ok());
  std::vector<uint8_t> expected = pattern(size, 11);
  {
    auto base = testing::open_ok(dir.file("base.vmdk"));
    ASSERT_TRUE(base->write(0, expected).ok());
    ASSERT_TRUE(base->flush().ok());
  }
  ASSERT_TRUE(create(dir.file("child.vmdk"), 0, {}, "base.vmdk").ok());
  {
    auto child = testing::open_ok(dir.file("child.vmdk"));
    ASSERT_TRUE(child);
    ASSERT_NE(child->backing(), nullptr);
    EXPECT_EQ(child->size(), size);
    EXPECT_EQ(read_all(*child), expected);
    write_both(*child, expected, kGrain + 10, pattern(30, 12));  // partial grain: copy-on-write
    write_both(*child, expected, size - 512, pattern(512, 13));
    // A discarded grain reads the parent again.
    ASSERT_TRUE(child->discard(kGrain, kGrain).ok());
    std::vector<uint8_t> parent_data = pattern(size, 11);
    std::memcpy(expected.data() + kGrain, parent_data.data() + kGrain, kGrain);
    EXPECT_EQ(read_all(*child), expected);
    // Zeros over a parent without zeroed-grain GTEs are written as data.
    ASSERT_TRUE(child->write_zeroes(2 * kGrain, kGrain, true).ok());
    std::memset(expected.data() + 2 * kGrain, 0, kGrain);
    EXPECT_EQ(read_all(*child), expected);
    auto map = child->map(0, size);
    ASSERT_TRUE(map.ok());
    EXPECT_EQ((*map)[0].depth, 1);  // grain 0 comes from the parent
    ASSERT_TRUE(child->flush().ok());
  }
  auto child = testing::open_ok(dir.file("child.vmdk"), true);
  EXPECT_EQ(read_all(*child), expected);
}

TEST(VmdkImage, ModifiedParentIsDetectedThroughTheCid) {
  TempDir dir;
  ASSERT_TRUE(create(dir.file("base.vmdk"), 4 * kGrain).ok());
  ASSERT_TRUE(create(dir.file("child.vmdk"), 0, {}, "base.vmdk").ok());
  ASSERT_TRUE(testing::open_ok(dir.file("child.vmdk"), true));
  {
    auto base = testing::open_ok(dir.file("base.vmdk"));
    ASSERT_TRUE(base->write(0, pattern(512, 1)).ok());  // changes the base's CID
  }
  OpenOptions options;
  options.read_only = true;
  const std::string message = error_of(open_image(dir.file("child.vmdk"), options));
  EXPECT_NE(message.find("the parent was modified after the delta disk was created"),
            std::string::npos)
      << message;
}

TEST(VmdkImage, MissingParentIsNamedAndCanBeGivenExplicitly) {
  TempDir dir;
  ASSERT_TRUE(create(dir.file("base.vmdk"), 4 * kGrain).ok());
  ASSERT_TRUE(create(dir.file("child.vmdk"), 0, {}, "base.vmdk").ok());
  std::filesystem::rename(dir.file("base.vmdk"), dir.file("moved.vmdk"));
  const std::string message = error_of(open_image(dir.file("child.vmdk"), {}));
  EXPECT_NE(message.find("parent \"base.vmdk\""), std::string::npos) << message;
  OpenOptions options;
  options.backing_path = "moved.vmdk";
  auto child = open_image(dir.file("child.vmdk"), options);
  ASSERT_TRUE(child.ok()) << error_of(child);
  EXPECT_EQ((*child)->backing()->path(), dir.file("moved.vmdk"));
}

TEST(VmdkImage, StreamWriterAppendsGrainsInOrder) {
  TempDir dir;
  const std::string path = dir.file("s.vmdk");
  const uint64_t size = 10 * kGrain + 1024;
  ASSERT_TRUE(create(path, size, {{"subformat", "streamOptimized"}}).ok());
  std::vector<uint8_t> expected(size, 0);
  {
    auto image = testing::open_ok(path);
    ASSERT_TRUE(image);
    EXPECT_TRUE(image->supports_compressed_writes());
    EXPECT_EQ(image->cluster_size(), kGrain);
    write_both(*image, expected, 0, pattern(kGrain / 2, 1));
    write_both(*image, expected, kGrain / 2, pattern(kGrain / 2 + 100, 2));
    auto grain3 = pattern(kGrain, 3);
    ASSERT_TRUE(image->write_compressed(3 * kGrain, grain3).ok());
    std::memcpy(expected.data() + 3 * kGrain, grain3.data(), kGrain);
    std::vector<uint8_t> text(kGrain, 'a');  // compressible
    write_both(*image, expected, 5 * kGrain, text);
    EXPECT_EQ(read_all(*image), expected);  // the pending grain reads back too
    ASSERT_TRUE(image->flush().ok());
    // Grains already appended cannot change; later ones still can.
    const std::string message = error_of(image->write(0, pattern(10, 9)));
    EXPECT_NE(message.find("already written"), std::string::npos) << message;
    write_both(*image, expected, size - 1024, pattern(1024, 4));
  }  // closing completes the stream
  auto image = testing::open_ok(path, true);
  ASSERT_TRUE(image);
  EXPECT_EQ(read_all(*image), expected);
  auto report = image->check(false);
  ASSERT_TRUE(report.ok()) << error_of(report);
  EXPECT_EQ(report->corruptions, 0u);
  EXPECT_EQ(report->allocated_clusters, 5u);  // grains 0, 1, 3, 5, 10
}

TEST(VmdkImage, OptionsAreValidated) {
  TempDir dir;
  EXPECT_NE(error_of(create(dir.file("a.vmdk"), kGrain, {{"subformat", "fancy"}}))
                .find("unknown VMDK subformat"),
            std::string::npos);
  EXPECT_NE(error_of(create(dir.file("a.vmdk"), kGrain, {{"adapter_type", "scsi"}}))
                .find("unknown adapter type"),
            std::string::npos);
  EXPECT_NE(error_of(create(dir.file("a.vmdk"), kGrain, {{"compat6", "on"}, {"hwversion", "7"}}))
                .find("compat6"),
            std::string::npos);
  ASSERT_TRUE(create(dir.file("base.vmdk"), kGrain).ok());
  EXPECT_NE(error_of(create(dir.file("f.vmdk"), 0, {{"subformat", "monolithicFlat"}}, "base.vmdk"))
                .find("cannot have a parent"),
            std::string::npos);
  ASSERT_TRUE(
      create(dir.file("l.vmdk"), 100 << 20, {{"adapter_type", "lsilogic"}, {"hwversion", "7"}})
          .ok());
  auto image = testing::open_ok(dir.file("l.vmdk"), true);
  auto& descriptor = static_cast<vmdk::VmdkImage&>(*image).descriptor();
  EXPECT_EQ(descriptor.value("ddb.adapterType"), "lsilogic");
  EXPECT_EQ(descriptor.value("ddb.virtualHWVersion"), "7");
  EXPECT_EQ(descriptor.value("ddb.geometry.heads"), "255");
  EXPECT_EQ(descriptor.value("ddb.geometry.cylinders"), "12");
}

}  // namespace
}  // namespace cella::block

namespace cella::block {
namespace {

TEST(VmdkImage, ClosingWritesBackTheGrainTables) {
  testing::TempDir dir;
  const std::string path = dir.file("c.vmdk");
  ASSERT_TRUE(create(path, 4 * kGrain).ok());
  EXPECT_NE(
      testing::reopen_after_unflushed_write(path, kGrain / 2, testing::pattern(3 * kGrain, 4)),
      nullptr);
}

}  // namespace
}  // namespace cella::block
