// VDI interoperability with qemu-img and qemu-io: images qemu writes read back identically in
// Cella, and images Cella writes (and frees, and grows) pass `qemu-img check` and compare.
#include <gtest/gtest.h>

#include <cstring>

#include "../../unit/block/disk_test_util.h"
#include "block/vdi/vdi_image.h"

namespace cella::block {
namespace {

using cella::testing::run_command;
using testing::pattern;
using testing::read_all;
using testing::TempDir;

constexpr uint64_t kBlock = 1 << 20;

void qemu_ok(const std::string& command) {
  auto result = run_command(command);
  ASSERT_EQ(result.exit_code, 0) << command << "\n" << result.output;
}

void qemu_write(const std::string& path, uint64_t offset, uint64_t length, uint8_t byte,
                std::vector<uint8_t>& expected) {
  qemu_ok(
      fmt::format("qemu-io -f vdi -c 'write -P 0x{:02x} {} {}' {}", byte, offset, length, path));
  std::memset(expected.data() + offset, byte, length);
}

void expect_content(const std::string& path, const std::vector<uint8_t>& expected) {
  auto image = testing::open_ok(path, true);
  ASSERT_TRUE(image);
  ASSERT_EQ(image->size(), expected.size());
  EXPECT_TRUE(read_all(*image) == expected) << path << ": content differs";
}

void qemu_verifies(const TempDir& dir, const std::string& path,
                   const std::vector<uint8_t>& expected) {
  testing::spit_sparse(dir.file("expected.raw"), expected);
  auto check = run_command("qemu-img check -f vdi " + path);
  EXPECT_EQ(check.exit_code, 0) << check.output;
  auto compare =
      run_command("qemu-img compare -f vdi -F raw " + path + " " + dir.file("expected.raw"));
  EXPECT_EQ(compare.exit_code, 0) << compare.output;
}

Result<void> create(const std::string& path, uint64_t size,
                    std::map<std::string, std::string> options = {},
                    const std::string& backing = "") {
  return testing::create_file("vdi", path, size, std::move(options), backing);
}

class QemuWrittenVdi : public ::testing::TestWithParam<bool> {};

TEST_P(QemuWrittenVdi, ReadsIdenticallyInCella) {
  TempDir dir;
  const std::string path = dir.file("q.vdi");
  const uint64_t size = 7 * kBlock + 3 * 512;  // not a multiple of the block size
  qemu_ok(fmt::format("qemu-img create -q -f vdi -o static={} {} {}", GetParam() ? "on" : "off",
                      path, size));
  std::vector<uint8_t> expected(size, 0);
  qemu_write(path, 0, 4096, 0xab, expected);
  qemu_write(path, kBlock - 512, 1024, 0xcd, expected);
  qemu_write(path, 3 * kBlock + 100 * 512, 2 * kBlock, 0x5a, expected);
  qemu_write(path, size - 512, 512, 0x11, expected);
  expect_content(path, expected);
  auto image = testing::open_ok(path, true);
  auto map = image->map(6 * kBlock, kBlock);  // never written: zeros (a hole when dynamic)
  ASSERT_TRUE(map.ok());
  EXPECT_EQ((*map)[0].kind, GetParam() ? ExtentKind::kData : ExtentKind::kUnallocated);
  auto report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions + report->leaks, 0u);
}

INSTANTIATE_TEST_SUITE_P(DynamicAndStatic, QemuWrittenVdi, ::testing::Bool());

class CellaWrittenVdi : public ::testing::TestWithParam<bool> {};

TEST_P(CellaWrittenVdi, PassesQemuCheckAndCompare) {
  TempDir dir;
  const std::string path = dir.file("c.vdi");
  const uint64_t size = 9 * kBlock + 2560;
  ASSERT_TRUE(create(path, size, {{"static", GetParam() ? "on" : "off"}}).ok());
  std::vector<uint8_t> expected(size, 0);
  {
    auto image = testing::open_ok(path);
    for (const auto& [offset, data] : std::vector<std::pair<uint64_t, std::vector<uint8_t>>>{
             {5 * kBlock + 7, pattern(3000, 1)},
             {0, pattern(kBlock + 4096, 2)},
             {8 * kBlock - 100, pattern(kBlock, 3)},
             {size - 2560, pattern(2560, 4)}}) {
      ASSERT_TRUE(image->write(offset, data).ok());
      std::memcpy(expected.data() + offset, data.data(), data.size());
    }
    ASSERT_TRUE(image->flush().ok());
  }
  qemu_verifies(dir, path, expected);
  // qemu-io keeps writing, Cella reads it back.
  qemu_write(path, 2 * kBlock + 3, 5000, 0x77, expected);
  expect_content(path, expected);
}

INSTANTIATE_TEST_SUITE_P(DynamicAndStatic, CellaWrittenVdi, ::testing::Bool());

TEST(VdiInterop, CompactedImagesPassQemuCheck) {
  TempDir dir;
  const std::string path = dir.file("d.vdi");
  ASSERT_TRUE(create(path, 8 * kBlock).ok());
  std::vector<uint8_t> expected = pattern(8 * kBlock, 5);
  {
    auto image = testing::open_ok(path);
    ASSERT_TRUE(image->write(0, expected).ok());
    ASSERT_TRUE(image->discard(2 * kBlock, 2 * kBlock).ok());
    ASSERT_TRUE(image->write_zeroes(6 * kBlock, kBlock, true).ok());
    ASSERT_TRUE(image->flush().ok());
  }
  std::memset(expected.data() + 2 * kBlock, 0, 2 * kBlock);
  std::memset(expected.data() + 6 * kBlock, 0, kBlock);
  qemu_verifies(dir, path, expected);
  auto info = run_command("qemu-img info --output json " + path);
  EXPECT_NE(info.output.find("\"actual-size\""), std::string::npos);
}

TEST(VdiInterop, GrownQemuImagesPassQemuCheck) {
  TempDir dir;
  const std::string path = dir.file("g.vdi");
  // qemu puts the data right after the map: growing moves the map over the first data block.
  qemu_ok("qemu-img create -q -f vdi " + path + " " + std::to_string(3 * kBlock));
  std::vector<uint8_t> expected(3 * kBlock, 0);
  qemu_write(path, 0, 2 * kBlock, 0x31, expected);
  qemu_write(path, 2 * kBlock + 512, 512, 0x32, expected);
  {
    auto image = testing::open_ok(path);
    const auto& header = static_cast<vdi::VdiImage&>(*image).header();
    EXPECT_EQ(header.data_offset, 1024u);  // 128 entries of room
    ASSERT_TRUE(image->resize(130 * kBlock).ok());
    EXPECT_EQ(header.blocks_offset, 1024u);  // the map moved
    expected.resize(130 * kBlock, 0);
    auto data = pattern(kBlock, 6);
    ASSERT_TRUE(image->write(129 * kBlock, data).ok());
    std::memcpy(expected.data() + 129 * kBlock, data.data(), data.size());
    ASSERT_TRUE(image->flush().ok());
  }
  qemu_verifies(dir, path, expected);
}

}  // namespace
}  // namespace cella::block
