// Cella against hand-built VHDX files: block states, sector bitmaps of differencing images,
// parent linkage, and log replay ([MS-VHDX] 2.3.3) with data and zero descriptors.
#include <gtest/gtest.h>

#include <cstring>

#include "block/vhdx/vhdx_image.h"
#include "image_test_support.h"
#include "vhdx_fixture.h"

namespace cella::block {
namespace {

using namespace testing;
using namespace testing::vhdx_spec;

// Blocks 0 fully present, 1 zero, 2 not present, 3 fully present; block 4 unmapped.
VhdxSpec dynamic_spec() {
  VhdxSpec spec;
  spec.size = 5 * kMiB;
  spec.blocks[0] = {6, pattern(0, kMiB, 1), {}};
  spec.blocks[1] = {2, {}, {}};
  spec.blocks[3] = {6, pattern(3 * kMiB, kMiB, 1), {}};
  spec.blocks[4] = {3, {}, {}};
  return spec;
}

std::vector<uint8_t> dynamic_content() {
  std::vector<uint8_t> bytes(5 * kMiB, 0);
  for (uint64_t block : {0, 3}) {
    const auto data = pattern(block * kMiB, kMiB, 1);
    std::memcpy(&bytes[block * kMiB], data.data(), kMiB);
  }
  return bytes;
}

class VhdxSpecTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::string path_ = dir_.file("fixture.vhdx");
};

TEST_F(VhdxSpecTest, BlockStates) {
  write_file(path_, build(dynamic_spec()));
  auto image = open_ok(path_, true);
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(image->size(), 5 * kMiB);
  EXPECT_EQ(read_all(*image), dynamic_content());
  auto extents = image->map(0, image->size());
  ASSERT_TRUE(extents.ok());
  uint64_t data = 0;
  for (const Extent& e : *extents) data += e.kind == ExtentKind::kData ? e.length : 0;
  EXPECT_EQ(data, 2 * kMiB);
  auto report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions + report->leaks, 0u);
  EXPECT_EQ(report->allocated_clusters, 2u);
}

TEST_F(VhdxSpecTest, DifferencingReadsSectorBySector) {
  VhdxSpec parent = dynamic_spec();
  write_file(dir_.file("parent.vhdx"), build(parent));
  VhdxSpec child;
  child.size = 5 * kMiB;
  child.has_parent = true;
  child.data_write_guid[0] = 0x99;
  // parent_linkage: the parent's DataWriteGuid, in text ([MS-VHDX] 2.6.2.6.3).
  child.locator = {{"parent_linkage", "{04030201-0605-0807-090A-0B0C0D0E0F10}"},
                   {"relative_path", ".\\parent.vhdx"}};
  std::vector<bool> sectors(2048, false);
  for (size_t s = 0; s < sectors.size(); s += 3) sectors[s] = true;  // every third sector
  child.blocks[0] = {7, pattern(0, kMiB, 2), sectors};
  child.blocks[3] = {2, {}, {}};  // zero: hides the parent's block 3
  child.blocks[2] = {7, pattern(2 * kMiB, kMiB, 2), std::vector<bool>(2048, true)};
  write_file(path_, build(child));
  std::vector<uint8_t> expected = dynamic_content();
  const auto own0 = pattern(0, kMiB, 2), own2 = pattern(2 * kMiB, kMiB, 2);
  for (size_t s = 0; s < sectors.size(); s += 3)
    std::memcpy(&expected[s * 512], &own0[s * 512], 512);
  std::memcpy(&expected[2 * kMiB], own2.data(), kMiB);
  std::fill(expected.begin() + 3 * kMiB, expected.begin() + 4 * kMiB, 0);
  auto image = open_ok(path_, true);
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(read_all(*image), expected);
  std::vector<uint8_t> piece(5000);
  ASSERT_OK(image->read(1000, piece));
  EXPECT_EQ(0, std::memcmp(piece.data(), &expected[1000], piece.size()));

  // A parent whose DataWriteGuid changed is refused.
  parent.data_write_guid[5] ^= 1;
  write_file(dir_.file("parent.vhdx"), build(parent));
  const std::string error = open_error(path_);
  EXPECT_NE(error.find("DataWriteGuid"), std::string::npos) << error;
}

TEST_F(VhdxSpecTest, DifferencingWritesUseTheSectorBitmap) {
  write_file(dir_.file("parent.vhdx"), build(dynamic_spec()));
  VhdxSpec child;
  child.size = 5 * kMiB;
  child.has_parent = true;
  child.locator = {{"parent_linkage", "{04030201-0605-0807-090A-0B0C0D0E0F10}"},
                   {"relative_path", ".\\parent.vhdx"}};
  write_file(path_, build(child));
  std::vector<uint8_t> expected = dynamic_content();
  {
    auto image = open_ok(path_);
    ASSERT_NE(image, nullptr);
    const auto data = pattern(0, 1000, 4);
    ASSERT_OK(image->write(3 * kMiB + 700, data));  // sectors 1-3 of block 3
    std::memcpy(&expected[3 * kMiB + 700], data.data(), data.size());
    EXPECT_EQ(read_all(*image), expected);
  }
  // Per the specification: block 3 partially present (7), the chunk's sector bitmap present
  // (6), bits 6145-6147 (block 3 starts at chunk sector 3 * 2048) set, and nothing else.
  const std::vector<uint8_t> file = read_host_file(path_);
  auto entry = [&](uint64_t index) {
    uint64_t value = 0;
    for (int i = 7; i >= 0; --i) value = value << 8 | file[3 * kMiB + index * 8 + i];
    return value;
  };
  EXPECT_EQ(entry(payload_index(child, 3)) & 7, 7u);
  const uint64_t bitmap = entry(chunk_ratio(child)) & ~uint64_t{0xFFFFF};
  ASSERT_EQ(entry(chunk_ratio(child)) & 7, 6u);
  for (uint64_t s = 3 * 2048; s < 4 * 2048; ++s) {
    const bool set = (file[bitmap + s / 8] >> (s % 8)) & 1;
    EXPECT_EQ(set, s >= 3 * 2048 + 1 && s <= 3 * 2048 + 3) << s;
  }
  auto image = open_ok(path_, true);
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(read_all(*image), expected);
}

// A log that says: block 2 is fully present at 6 MiB (whose data is in the file), and 8 KiB of
// block 0 are zero. The BAT in place does not know yet.
struct DirtyImage {
  VhdxSpec spec;
  std::vector<uint8_t> file;
  std::vector<uint8_t> expected;
};

DirtyImage dirty_image() {
  DirtyImage dirty;
  dirty.spec = dynamic_spec();
  dirty.file = build(dirty.spec);
  // 6 MiB: after the blocks; the new block's data is there, unreferenced.
  dirty.file.resize(7 * kMiB, 0);
  const auto block2 = pattern(2 * kMiB, kMiB, 7);
  std::memcpy(&dirty.file[6 * kMiB], block2.data(), kMiB);
  Bytes page = bat_page(dirty.file, dirty.spec, 0);
  put_le(page, 8 * payload_index(dirty.spec, 2), 6 * kMiB | 6, 8);
  const uint64_t block0 = [&] {
    uint64_t value = 0;
    for (int i = 7; i >= 0; --i) value = value << 8 | dirty.file[dirty.spec.bat_offset + i];
    return value & ~uint64_t{0xFFFFF};
  }();
  dirty.spec.log_guid = {0xAA, 0xBB, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
  LogEntrySpec entry;
  entry.sequence = 41;
  entry.position = 0;
  entry.tail = 0;
  entry.log_guid = dirty.spec.log_guid;
  entry.pages = {{dirty.spec.bat_offset, page}};
  entry.zeros = {{block0 + 4096, 8192}};
  entry.flushed_file_offset = 7 * kMiB;
  entry.last_file_offset = 8 * kMiB;  // the file is extended to this on replay
  write_log_entry(dirty.file, dirty.spec, entry);
  set_log_guid(dirty.file, dirty.spec, dirty.spec.log_guid);
  dirty.expected = dynamic_content();
  std::memcpy(&dirty.expected[2 * kMiB], block2.data(), kMiB);
  std::fill(dirty.expected.begin() + 4096, dirty.expected.begin() + 12288, 0);
  return dirty;
}

TEST_F(VhdxSpecTest, LogIsReplayedOnOpen) {
  DirtyImage dirty = dirty_image();
  write_file(path_, dirty.file);
  // Read-only: the log is applied in memory only, and the image says so; the file is untouched.
  {
    auto image = open_ok(path_, true);
    ASSERT_NE(image, nullptr);
    EXPECT_EQ(read_all(*image), dirty.expected);
    std::string notes;
    for (const InfoField& field : image->info()) notes += field.value + "\n";
    EXPECT_NE(notes.find("metadata log holds 1 unapplied entry"), std::string::npos) << notes;
    EXPECT_NE(notes.find("in memory only"), std::string::npos) << notes;
    auto report = image->check(false);
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(report->corruptions, 1u);  // until a read-write open (check -r) replays it
  }
  EXPECT_EQ(read_host_file(path_), dirty.file);
  {
    auto image = open_ok(path_);
    ASSERT_NE(image, nullptr);
    EXPECT_EQ(read_all(*image), dirty.expected);
  }
  EXPECT_EQ(std::filesystem::file_size(path_), 8 * kMiB);  // LastFileOffset
  auto image = open_ok(path_, true);                       // the log is empty now
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(read_all(*image), dirty.expected);
  EXPECT_TRUE(static_cast<vhdx::VhdxImage*>(image.get())->header().log_guid.is_zero());
  auto report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions, 0u);
}

TEST_F(VhdxSpecTest, ReplaysTheActiveSequenceOnly) {
  DirtyImage dirty = dirty_image();
  const VhdxSpec& spec = dirty.spec;
  // Entry 41 (at 0) is followed by entry 42 (its tail is 41), whose copy of the same BAT page
  // also makes block 1 unmapped: both are replayed, in order, and the later page wins.
  Bytes page = bat_page(dirty.file, spec, 0);
  put_le(page, 8 * payload_index(spec, 2), 6 * kMiB | 6, 8);
  put_le(page, 8 * payload_index(spec, 1), 0 | 3, 8);  // block 1: zero -> unmapped
  LogEntrySpec second;
  second.sequence = 42;
  second.position = 8192;  // entry 41 is two sectors
  second.tail = 0;
  second.log_guid = spec.log_guid;
  second.pages = {{spec.bat_offset, page}};
  second.flushed_file_offset = 7 * kMiB;
  second.last_file_offset = 8 * kMiB;
  write_log_entry(dirty.file, spec, second);
  // Noise: an older complete entry elsewhere, an entry of another log, a torn newer entry.
  LogEntrySpec old = second;
  old.sequence = 7;
  old.position = old.tail = 64 * 1024;
  old.pages[0].bytes.assign(4096, 0xEE);
  write_log_entry(dirty.file, spec, old);
  LogEntrySpec foreign = old;
  foreign.sequence = 100;
  foreign.position = foreign.tail = 128 * 1024;
  foreign.log_guid[0] ^= 1;
  write_log_entry(dirty.file, spec, foreign);
  LogEntrySpec torn = second;
  torn.sequence = 43;
  torn.position = 16384;
  torn.tail = 0;
  torn.pages[0].bytes.assign(4096, 0xDD);
  write_log_entry(dirty.file, spec, torn);
  dirty.file[spec.log_offset + 16384 + 4096 + 100] ^= 0xFF;  // its data sector is torn
  write_file(path_, dirty.file);
  auto image = open_ok(path_);
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(read_all(*image), dirty.expected);
  image.reset();
  // The replayed BAT page is entry 42's: block 1 unmapped.
  const auto after = read_host_file(path_);
  EXPECT_EQ(after[spec.bat_offset + 8 * payload_index(spec, 1)] & 7, 3);
}

TEST_F(VhdxSpecTest, EntryWrappingAroundTheLogEnd) {
  DirtyImage dirty = dirty_image();
  // Rewrite the same entry so that its second sector is at the start of the log.
  std::fill(dirty.file.begin() + dirty.spec.log_offset,
            dirty.file.begin() + dirty.spec.log_offset + dirty.spec.log_length, 0);
  Bytes page = bat_page(dirty.file, dirty.spec, 0);
  put_le(page, 8 * payload_index(dirty.spec, 2), 6 * kMiB | 6, 8);
  LogEntrySpec entry;
  entry.sequence = 5;
  entry.position = entry.tail = dirty.spec.log_length - 4096;
  entry.log_guid = dirty.spec.log_guid;
  entry.pages = {{dirty.spec.bat_offset, page}};
  entry.flushed_file_offset = 7 * kMiB;
  entry.last_file_offset = 7 * kMiB;
  write_log_entry(dirty.file, dirty.spec, entry);
  write_file(path_, dirty.file);
  auto image = open_ok(path_);
  ASSERT_NE(image, nullptr);
  std::vector<uint8_t> block(kMiB);
  ASSERT_OK(image->read(2 * kMiB, block));
  EXPECT_EQ(block, pattern(2 * kMiB, kMiB, 7));
}

TEST_F(VhdxSpecTest, HostileLogsAreRefused) {
  {
    // The file is shorter than the log says it was when flushed: truncated.
    DirtyImage dirty = dirty_image();
    dirty.file.resize(6 * kMiB);
    write_file(path_, dirty.file);
    const std::string error = open_error(path_, false);
    EXPECT_NE(error.find("truncated"), std::string::npos) << error;
  }
  {
    // A data descriptor aimed at the headers.
    DirtyImage dirty = dirty_image();
    LogEntrySpec entry;
    entry.sequence = 50;
    entry.position = entry.tail = 64 * 1024;
    entry.log_guid = dirty.spec.log_guid;
    entry.pages = {{64 * 1024, Bytes(4096, 0)}};
    entry.flushed_file_offset = entry.last_file_offset = 7 * kMiB;
    write_log_entry(dirty.file, dirty.spec, entry);
    write_file(path_, dirty.file);
    const std::string error = open_error(path_, false);
    EXPECT_NE(error.find("refusing to replay"), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace cella::block
