// Damaged and hostile VDI images, and the states a crash can leave: refused with a message
// naming the problem, or reported and repaired by check.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "block/vdi/vdi_image.h"
#include "disk_test_util.h"
#include "vdi_fixture.h"

namespace cella::block {
namespace {

using testing::error_of;
using testing::pattern;
using testing::TempDir;
using testing::VdiFixture;

constexpr uint32_t kBlock = 1 << 20;
constexpr uint32_t kFree = 0xffffffff;

VdiFixture two_blocks() {
  VdiFixture image;
  image.disk_size = 4 * kBlock;
  image.map = {0, kFree, 1, kFree};
  image.data = {pattern(kBlock, 1), pattern(kBlock, 2)};
  return image;
}

std::string open_error(const std::string& path, bool read_only = true) {
  OpenOptions options;
  options.read_only = read_only;
  options.format = "vdi";
  return error_of(open_image(path, options));
}

template <class T>
void set_field(std::vector<uint8_t>& bytes, size_t at, T value) {
  std::memcpy(&bytes[at], &value, sizeof(T));
}

struct BadHeader {
  const char* name;
  size_t at;
  uint64_t value;
  size_t width;
  const char* message;
};

class VdiBadHeader : public ::testing::TestWithParam<BadHeader> {};

TEST_P(VdiBadHeader, IsRefusedWithAClearMessage) {
  TempDir dir;
  auto bytes = two_blocks().bytes();
  const BadHeader& bad = GetParam();
  if (bad.width == 4)
    set_field<uint32_t>(bytes, bad.at, static_cast<uint32_t>(bad.value));
  else
    set_field<uint64_t>(bytes, bad.at, bad.value);
  testing::write_whole_file(dir.file("bad.vdi"), bytes);
  const std::string message = open_error(dir.file("bad.vdi"));
  EXPECT_NE(message.find(bad.message), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Hostile, VdiBadHeader,
    ::testing::Values(BadHeader{"signature", 0x40, 0x12345678, 4, "bad signature"},
                      BadHeader{"version", 0x44, 0x00020000, 4, "unsupported VDI version 2.0"},
                      BadHeader{"undo", 0x4c, 3, 4, "undo images are not supported"},
                      BadHeader{"type", 0x4c, 77, 4, "unknown VDI image type 77"},
                      BadHeader{"header_size", 0x48, 16, 4, "invalid VDI header size"},
                      BadHeader{"block_size", 0x178, 3 << 20, 4, "invalid block size"},
                      BadHeader{"huge_block", 0x178, 1u << 31, 4, "invalid block size"},
                      BadHeader{"extra", 0x17c, 100, 4, "extra data size"},
                      BadHeader{"blocks", 0x180, 0xfffffff0, 4, "more than the 67108864 supported"},
                      BadHeader{"disk_size", 0x170, uint64_t{1} << 40, 8,
                                "is larger than its 4 blocks"},
                      BadHeader{"allocated", 0x184, 9, 4, "9 blocks allocated out of 4"},
                      BadHeader{"map_offset", 0x154, 4000, 4, "sector-aligned"},
                      BadHeader{"map_overlap", 0x158, 512, 4, "overlaps the data"},
                      BadHeader{"data_offset", 0x158, 0x7ffffe00, 4, "beyond the end of the file"},
                      BadHeader{"sector", 0x168, 4096, 4, "unsupported sector size 4096"},
                      BadHeader{"diff_without_parent", 0x4c, 4, 4, "without a parent UUID"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(VdiHostile, TruncatedFilesAreRefusedOrReported) {
  TempDir dir;
  auto bytes = two_blocks().bytes();
  testing::write_whole_file(dir.file("t.vdi"),
                            std::vector<uint8_t>(bytes.begin(), bytes.begin() + 300));
  EXPECT_NE(open_error(dir.file("t.vdi")).find("invalid VDI header size 400 (block map at 0)"),
            std::string::npos)
      << open_error(dir.file("t.vdi"));
  // Cut inside the second data block: it can no longer be read, and check says so.
  testing::write_whole_file(dir.file("t.vdi"),
                            std::vector<uint8_t>(bytes.begin(), bytes.end() - 1000));
  auto image = testing::open_ok(dir.file("t.vdi"), true);
  ASSERT_TRUE(image);
  std::vector<uint8_t> buffer(512);
  EXPECT_TRUE(image->read(0, buffer).ok());
  EXPECT_FALSE(image->read(3 * kBlock - 512, buffer).ok());
  auto report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions, 1u);
}

TEST(VdiHostile, BadMapEntriesBlockWritesAndAreReported) {
  TempDir dir;
  VdiFixture shared = two_blocks();
  shared.map = {0, 0, 1, kFree};  // blocks 0 and 1 share slot 0
  testing::write_whole_file(dir.file("s.vdi"), shared.bytes());
  auto image = testing::open_ok(dir.file("s.vdi"));
  ASSERT_TRUE(image);
  std::vector<uint8_t> buffer(kBlock);
  EXPECT_TRUE(image->read(kBlock, buffer).ok());
  EXPECT_EQ(buffer, pattern(kBlock, 1));
  const std::string refused = error_of(image->write(3 * kBlock, pattern(10, 1)));
  EXPECT_NE(refused.find("blocks 0 and 1 share data block 0"), std::string::npos) << refused;
  auto report = image->check(true);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions, 1u);
  image.reset();

  VdiFixture beyond = two_blocks();
  beyond.map = {0, 7, 1, kFree};  // slot 7 of 2 allocated
  testing::write_whole_file(dir.file("b.vdi"), beyond.bytes());
  image = testing::open_ok(dir.file("b.vdi"), true);
  const std::string read_error = error_of(image->read(kBlock, buffer));
  EXPECT_NE(read_error.find("maps to data block 7 of only 2 allocated"), std::string::npos)
      << read_error;
  report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions, 1u);
}

// The states a crash can leave behind, built directly: each opens, loses nothing that was
// referenced, checks with leaks only, and repairs to a clean image qemu-img also accepts.
TEST(VdiHostile, CrashLeftoversAreLeaksThatRepairCompacts) {
  TempDir dir;
  // The count includes a slot no entry uses yet (crash before the map entry was written), in
  // the middle, and a partial block written past the count (crash before the count was).
  VdiFixture crashed = two_blocks();
  crashed.map = {0, kFree, 2, kFree};
  crashed.data = {pattern(kBlock, 1), pattern(kBlock, 7), pattern(kBlock, 2)};
  auto bytes = crashed.bytes();
  bytes.resize(bytes.size() + 4096, 0x99);
  testing::write_whole_file(dir.file("c.vdi"), bytes);
  std::vector<uint8_t> expected(4 * kBlock, 0);
  std::memcpy(&expected[0], pattern(kBlock, 1).data(), kBlock);
  std::memcpy(&expected[2 * kBlock], pattern(kBlock, 2).data(), kBlock);
  {
    auto image = testing::open_ok(dir.file("c.vdi"), true);
    EXPECT_EQ(testing::read_all(*image), expected);
    auto report = image->check(false);
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(report->corruptions, 0u);
    EXPECT_EQ(report->leaks, 2u);  // one counted slot, one partial block past the count
  }
  {
    auto image = testing::open_ok(dir.file("c.vdi"));
    auto report = image->check(true);
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(report->leaks_fixed, 2u);
  }
  auto image = testing::open_ok(dir.file("c.vdi"), true);
  EXPECT_EQ(testing::read_all(*image), expected);
  auto report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->leaks + report->corruptions, 0u);
  EXPECT_EQ(static_cast<vdi::VdiImage&>(*image).header().blocks_allocated, 2u);
  EXPECT_EQ(std::filesystem::file_size(dir.file("c.vdi")), 4096 + 2 * kBlock);
  image.reset();  // qemu-img will not open an image another process has open
  auto qemu = testing::run_command("qemu-img check -f vdi " + dir.file("c.vdi"));
  EXPECT_EQ(qemu.exit_code, 0) << qemu.output;
}

}  // namespace
}  // namespace cella::block
