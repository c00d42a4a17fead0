// VDI differencing images, from fixtures built in the test: the parent is found by UUID among
// the .vdi files of the child's folder (or named explicitly), read through where the child has
// no block, and never written.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "block/ops/commit.h"
#include "block/vdi/vdi_image.h"
#include "disk_test_util.h"
#include "vdi_fixture.h"

namespace cella::block {
namespace {

using testing::error_of;
using testing::pattern;
using testing::read_all;
using testing::TempDir;
using testing::uuid_of;
using testing::VdiFixture;

constexpr uint64_t kBlock = 1 << 20;
constexpr uint32_t kFree = 0xffffffff;
constexpr uint32_t kZero = 0xfffffffe;

// A 4-block parent with blocks 0, 1 and 3 holding patterns (block 2 free).
VdiFixture parent_fixture() {
  VdiFixture parent;
  parent.create_uuid = uuid_of(1);
  parent.modify_uuid = uuid_of(2);
  parent.map = {0, 2, kFree, 1};
  parent.data = {pattern(kBlock, 10), pattern(kBlock, 13), pattern(kBlock, 11)};
  return parent;
}

// The parent's content as a disk.
std::vector<uint8_t> parent_content() {
  std::vector<uint8_t> disk(4 * kBlock, 0);
  std::memcpy(&disk[0], pattern(kBlock, 10).data(), kBlock);
  std::memcpy(&disk[kBlock], pattern(kBlock, 11).data(), kBlock);
  std::memcpy(&disk[3 * kBlock], pattern(kBlock, 13).data(), kBlock);
  return disk;
}

// A child overriding block 1 (data), zeroing block 3, and leaving blocks 0 and 2 to the parent.
VdiFixture child_fixture() {
  VdiFixture child;
  child.type = 4;
  child.create_uuid = uuid_of(5);
  child.modify_uuid = uuid_of(6);
  child.linkage_uuid = uuid_of(1);
  child.parent_modify_uuid = uuid_of(2);
  child.map = {kFree, 0, kFree, kZero};
  child.data = {pattern(kBlock, 20)};
  return child;
}

std::vector<uint8_t> child_content() {
  std::vector<uint8_t> disk = parent_content();
  std::memcpy(&disk[kBlock], pattern(kBlock, 20).data(), kBlock);
  std::memset(&disk[3 * kBlock], 0, kBlock);
  return disk;
}

TEST(VdiDiff, FindsTheParentByUuidAndReadsThrough) {
  TempDir dir;
  testing::write_whole_file(dir.file("base.vdi"), parent_fixture().bytes());
  testing::write_whole_file(dir.file("child.vdi"), child_fixture().bytes());
  // Unrelated files in the folder are ignored; the parent's name does not matter.
  testing::write_whole_file(dir.file("notes.vdi"), std::vector<uint8_t>(100, 'x'));
  std::filesystem::rename(dir.file("base.vdi"), dir.file("base.img"));
  VdiFixture other = parent_fixture();
  other.create_uuid = uuid_of(9);
  testing::write_whole_file(dir.file("other.VDI"), other.bytes());
  auto child = testing::open_ok(dir.file("child.vdi"), true);
  ASSERT_TRUE(child);
  ASSERT_NE(child->backing(), nullptr);
  EXPECT_EQ(child->backing()->path(), dir.file("base.img"));
  EXPECT_EQ(read_all(*child), child_content());
  auto map = child->map(0, child->size());
  ASSERT_TRUE(map.ok());
  ASSERT_GE(map->size(), 3u);
  EXPECT_EQ((*map)[0].depth, 1);  // block 0 from the parent
  EXPECT_EQ((*map)[1].depth, 0);  // block 1 in the child
  EXPECT_EQ((*map)[1].kind, ExtentKind::kData);
}

TEST(VdiDiff, WritesStayInTheChild) {
  TempDir dir;
  testing::write_whole_file(dir.file("base.vdi"), parent_fixture().bytes());
  testing::write_whole_file(dir.file("child.vdi"), child_fixture().bytes());
  const auto parent_before = testing::read_whole_file(dir.file("base.vdi"));
  std::vector<uint8_t> expected = child_content();
  {
    auto child = testing::open_ok(dir.file("child.vdi"));
    ASSERT_TRUE(child);
    // Part of block 0 (copy-on-write from the parent) and part of block 2 (free in both).
    auto data = pattern(5000, 30);
    ASSERT_TRUE(child->write(kBlock - 2500, data).ok());
    std::memcpy(&expected[kBlock - 2500], data.data(), data.size());
    ASSERT_TRUE(child->write(2 * kBlock + 7, data).ok());
    std::memcpy(&expected[2 * kBlock + 7], data.data(), data.size());
    // Discarding block 1 shows the parent's block again; zeroing block 0 hides it.
    ASSERT_TRUE(child->discard(kBlock, kBlock).ok());
    std::memcpy(&expected[kBlock], parent_content().data() + kBlock, kBlock);
    ASSERT_TRUE(child->write_zeroes(0, kBlock, true).ok());
    std::memset(&expected[0], 0, kBlock);
    EXPECT_EQ(read_all(*child), expected);
    ASSERT_TRUE(child->flush().ok());
    auto report = child->check(false);
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(report->corruptions + report->leaks, 0u);
  }
  EXPECT_EQ(testing::read_whole_file(dir.file("base.vdi")), parent_before);
  auto child = testing::open_ok(dir.file("child.vdi"), true);
  EXPECT_EQ(read_all(*child), expected);
}

TEST(VdiDiff, MissingOrAmbiguousParentsAreNamed) {
  TempDir dir;
  testing::write_whole_file(dir.file("child.vdi"), child_fixture().bytes());
  OpenOptions options;
  options.read_only = true;
  const std::string missing = error_of(open_image(dir.file("child.vdi"), options));
  EXPECT_NE(missing.find("is not among the VDI images of"), std::string::npos) << missing;
  EXPECT_NE(missing.find("34231201-"), std::string::npos) << missing;  // the parent's UUID
  testing::write_whole_file(dir.file("a.vdi"), parent_fixture().bytes());
  testing::write_whole_file(dir.file("b.vdi"), parent_fixture().bytes());
  const std::string ambiguous = error_of(open_image(dir.file("child.vdi"), options));
  EXPECT_NE(ambiguous.find("several VDI images"), std::string::npos) << ambiguous;
  // An explicit parent settles it, and must carry the right UUID.
  options.backing_path = "b.vdi";
  auto child = open_image(dir.file("child.vdi"), options);
  ASSERT_TRUE(child.ok()) << error_of(child);
  EXPECT_EQ(read_all(**child), child_content());
  VdiFixture stranger = parent_fixture();
  stranger.create_uuid = uuid_of(42);
  testing::write_whole_file(dir.file("c.vdi"), stranger.bytes());
  options.backing_path = dir.file("c.vdi");
  const std::string wrong = error_of(open_image(dir.file("child.vdi"), options));
  EXPECT_NE(wrong.find("is not this image's parent"), std::string::npos) << wrong;
}

TEST(VdiDiff, ParentLoopsAreDetected) {
  TempDir dir;
  // Two differencing images, each the other's parent.
  VdiFixture a = child_fixture();
  a.create_uuid = uuid_of(1);
  a.linkage_uuid = uuid_of(5);
  testing::write_whole_file(dir.file("a.vdi"), a.bytes());
  testing::write_whole_file(dir.file("b.vdi"), child_fixture().bytes());
  const std::string message = error_of(open_image(dir.file("b.vdi"), {}));
  EXPECT_NE(message.find("loops back"), std::string::npos) << message;
}

TEST(VdiDiff, CellaCreatesDifferencingImages) {
  TempDir dir;
  testing::write_whole_file(dir.file("base.vdi"), parent_fixture().bytes());
  CreateOptions create;
  create.path = dir.file("child.vdi");
  create.backing_file = "base.vdi";
  ASSERT_TRUE(create_image("vdi", create).ok());
  auto child = testing::open_ok(dir.file("child.vdi"));
  ASSERT_TRUE(child);
  EXPECT_EQ(child->size(), 4 * kBlock);
  EXPECT_EQ(read_all(*child), parent_content());
  const auto& header = static_cast<vdi::VdiImage&>(*child).header();
  EXPECT_EQ(header.type, vdi::ImageType::kDiff);
  EXPECT_EQ(header.linkage_uuid, uuid_of(1));
  EXPECT_EQ(header.parent_modify_uuid, uuid_of(2));
  // The parent must live in the child's folder.
  std::filesystem::create_directory(dir.file("sub"));
  create.path = dir.file("sub/child.vdi");
  create.backing_file = "../base.vdi";
  EXPECT_NE(error_of(create_image("vdi", create)).find("same folder"), std::string::npos);
}

TEST(VdiDiff, CommitMovesTheChildIntoTheParentAndEmptiesIt) {
  TempDir dir;
  testing::write_whole_file(dir.file("base.vdi"), parent_fixture().bytes());
  testing::write_whole_file(dir.file("child.vdi"), child_fixture().bytes());
  {
    OpenOptions options;
    options.backing_writable = true;
    auto child = open_image(dir.file("child.vdi"), options);
    ASSERT_TRUE(child.ok()) << error_of(child);
    ASSERT_TRUE(ops::commit(**child, {}).ok());
    // Every block of the child is free again: the whole disk maps to the parent.
    auto map = (*child)->map(0, (*child)->size());
    ASSERT_TRUE(map.ok());
    for (const Extent& extent : *map) EXPECT_EQ(extent.depth, 1) << extent.offset;
  }
  auto parent = testing::open_ok(dir.file("base.vdi"), true);
  EXPECT_EQ(read_all(*parent), child_content());
  // The child opens without a modified-parent warning being due: it recorded the parent's new
  // modification UUID.
  auto child = testing::open_ok(dir.file("child.vdi"), true);
  ASSERT_TRUE(child);
  EXPECT_EQ(read_all(*child), child_content());
  EXPECT_EQ(static_cast<vdi::VdiImage&>(*child).header().parent_modify_uuid,
            static_cast<vdi::VdiImage&>(*parent).header().modify_uuid);
  // A dynamic image has no parent to empty into.
  EXPECT_NE(error_of(parent->make_empty()).find("not a differencing image"), std::string::npos);
}

}  // namespace
}  // namespace cella::block
