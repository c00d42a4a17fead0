// VMDK interoperability with qemu-img and qemu-io: disks qemu writes read back identically in
// Cella, and disks Cella writes pass `qemu-img check` and `qemu-img compare`.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "../../unit/block/disk_test_util.h"

namespace cella::block {
namespace {

using cella::testing::run_command;
using testing::pattern;
using testing::read_all;
using testing::TempDir;

constexpr uint64_t kGrain = 64 * 1024;

// A write both given to qemu-io ("write -P <byte> <offset> <length>") and applied to the
// expected disk content.
struct Fill {
  uint64_t offset;
  uint64_t length;
  uint8_t byte;
};

void qemu_io(const std::string& path, const std::vector<Fill>& fills,
             std::vector<uint8_t>& expected, const std::string& format = "vmdk") {
  std::string command = "qemu-io -f " + format;
  for (const Fill& fill : fills) {
    command += fmt::format(" -c 'write -P 0x{:02x} {} {}'", fill.byte, fill.offset, fill.length);
    std::memset(expected.data() + fill.offset, fill.byte, fill.length);
  }
  auto result = run_command(command + " " + path);
  ASSERT_EQ(result.exit_code, 0) << result.output;
}

void qemu_img(const std::string& arguments) {
  auto result = run_command("qemu-img " + arguments);
  ASSERT_EQ(result.exit_code, 0) << "qemu-img " << arguments << "\n" << result.output;
}

// Cella's view of the image equals `expected`, and qemu-img agrees on the raw copy.
void expect_content(const std::string& path, const std::vector<uint8_t>& expected) {
  auto image = testing::open_ok(path, true);
  ASSERT_TRUE(image);
  ASSERT_EQ(image->size(), expected.size());
  EXPECT_TRUE(read_all(*image) == expected) << path << ": content differs";
}

// Checks a Cella-written image with qemu-img: check passes and compare finds the content of
// `expected` (written to a raw file next to it).
void qemu_verifies(const TempDir& dir, const std::string& path,
                   const std::vector<uint8_t>& expected, const std::string& format = "vmdk") {
  const std::string raw = dir.file("expected.raw");
  testing::spit_sparse(raw, expected);
  auto check = run_command("qemu-img check -f " + format + " " + path);
  EXPECT_EQ(check.exit_code, 0) << check.output;
  auto compare = run_command("qemu-img compare -f " + format + " -F raw " + path + " " + raw);
  EXPECT_EQ(compare.exit_code, 0) << compare.output;
}

Result<void> create(const std::string& path, uint64_t size,
                    std::map<std::string, std::string> options = {},
                    const std::string& backing = "") {
  return testing::create_file("vmdk", path, size, std::move(options), backing);
}

// Every subformat qemu-img creates, with data written by qemu-io.
class QemuWrittenVmdk : public ::testing::TestWithParam<const char*> {};

TEST_P(QemuWrittenVmdk, ReadsIdenticallyInCella) {
  TempDir dir;
  const std::string path = dir.file("q.vmdk");
  const uint64_t size = 48 * kGrain + 3 * 512;  // not a multiple of the grain
  qemu_img(fmt::format("create -q -f vmdk -o subformat={} {} {}", GetParam(), path, size));
  std::vector<uint8_t> expected(size, 0);
  qemu_io(path,
          {{0, 4096, 0xab},
           {100 * 1024, 70 * 1024, 0xcd},
           {10 * kGrain, 5 * kGrain, 0x5a},
           {size - 512, 512, 0x11},
           {kGrain - 512, 1024, 0x22}},
          expected);
  expect_content(path, expected);
  // The regions qemu never wrote are sparse: unallocated grains, or holes (zeros) of a flat
  // extent's file.
  auto image = testing::open_ok(path, true);
  auto map = image->map(20 * kGrain, 4 * kGrain);
  ASSERT_TRUE(map.ok());
  const bool flat = std::string(GetParam()).find("Flat") != std::string::npos;
  EXPECT_EQ((*map)[0].kind, flat ? ExtentKind::kZero : ExtentKind::kUnallocated);
  auto report = image->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions + report->leaks, 0u)
      << (report->messages.empty() ? "" : report->messages[0]);
}

INSTANTIATE_TEST_SUITE_P(Subformats, QemuWrittenVmdk,
                         ::testing::Values("monolithicSparse", "monolithicFlat",
                                           "twoGbMaxExtentSparse", "twoGbMaxExtentFlat"));

TEST(VmdkInterop, QemuZeroedGrainsReadAsZeros) {
  TempDir dir;
  const std::string path = dir.file("z.vmdk");
  const uint64_t size = 16 * kGrain;
  qemu_img(fmt::format("create -q -f vmdk -o zeroed_grain=on {} {}", path, size));
  std::vector<uint8_t> expected(size, 0);
  qemu_io(path, {{0, size, 0x77}}, expected);
  auto zero = run_command(
      fmt::format("qemu-io -f vmdk -c 'write -z {} {}' {}", 2 * kGrain, 4 * kGrain, path));
  ASSERT_EQ(zero.exit_code, 0) << zero.output;
  std::memset(expected.data() + 2 * kGrain, 0, 4 * kGrain);
  expect_content(path, expected);
}

TEST(VmdkInterop, QemuStreamOptimizedReadsIdentically) {
  TempDir dir;
  const uint64_t size = 40 * kGrain + 1536;
  std::vector<uint8_t> raw(size, 0);
  auto data = pattern(5 * kGrain + 300, 1);  // incompressible
  std::memcpy(raw.data() + 3 * kGrain + 17, data.data(), data.size());
  std::memset(raw.data() + 20 * kGrain, 'x', 7 * kGrain);  // compressible
  std::memset(raw.data() + size - 700, 0xee, 700);
  testing::write_whole_file(dir.file("src.raw"), raw);
  qemu_img("convert -f raw -O vmdk -o subformat=streamOptimized " + dir.file("src.raw") + " " +
           dir.file("s.vmdk"));
  expect_content(dir.file("s.vmdk"), raw);
}

TEST(VmdkInterop, QemuBackingChainReadsThrough) {
  TempDir dir;
  const uint64_t size = 32 * kGrain + 512;
  std::vector<uint8_t> expected(size, 0);
  qemu_img(fmt::format("create -q -f vmdk {} {}", dir.file("base.vmdk"), size));
  qemu_io(dir.file("base.vmdk"), {{0, size, 0x10}}, expected);
  qemu_img("create -q -f vmdk -b base.vmdk -F vmdk " + dir.file("mid.vmdk"));
  qemu_io(dir.file("mid.vmdk"), {{kGrain + 100, 300, 0x20}, {8 * kGrain, 2 * kGrain, 0x21}},
          expected);
  qemu_img("create -q -f vmdk -b mid.vmdk -F vmdk " + dir.file("top.vmdk"));
  qemu_io(dir.file("top.vmdk"), {{kGrain + 200, 10, 0x30}, {size - 512, 512, 0x31}}, expected);
  expect_content(dir.file("top.vmdk"), expected);
  auto image = testing::open_ok(dir.file("top.vmdk"), true);
  auto map = image->map(0, kGrain);
  ASSERT_TRUE(map.ok());
  EXPECT_EQ((*map)[0].depth, 2);  // grain 0 only in the base
}

// Every subformat Cella creates, written by Cella, verified by qemu-img.
class CellaWrittenVmdk : public ::testing::TestWithParam<const char*> {};

TEST_P(CellaWrittenVmdk, PassesQemuCheckAndCompare) {
  TempDir dir;
  const std::string path = dir.file("c.vmdk");
  const uint64_t size = 40 * kGrain + 2560;
  ASSERT_TRUE(create(path, size, {{"subformat", GetParam()}}).ok());
  std::vector<uint8_t> expected(size, 0);
  {
    auto image = testing::open_ok(path);
    ASSERT_TRUE(image);
    const std::vector<std::pair<uint64_t, std::vector<uint8_t>>> writes = {
        {0, pattern(3000, 1)},
        {2 * kGrain + 5, pattern(3 * kGrain, 2)},
        {12 * kGrain, std::vector<uint8_t>(4 * kGrain, 'q')},
        {size - 2560, pattern(2560, 3)}};
    for (const auto& [offset, data] : writes) {  // in disk order, as convert writes
      ASSERT_TRUE(image->write(offset, data).ok());
      std::memcpy(expected.data() + offset, data.data(), data.size());
    }
    ASSERT_TRUE(image->flush().ok());
  }
  qemu_verifies(dir, path, expected);
  // And qemu-io can keep writing to it (except to a stream), which Cella then reads.
  if (std::string_view(GetParam()) != "streamOptimized") {
    qemu_io(path, {{kGrain, 1000, 0x99}, {30 * kGrain, kGrain, 0x98}}, expected);
    expect_content(path, expected);
  }
}

INSTANTIATE_TEST_SUITE_P(Subformats, CellaWrittenVmdk,
                         ::testing::Values("monolithicSparse", "monolithicFlat",
                                           "twoGbMaxExtentSparse", "twoGbMaxExtentFlat",
                                           "streamOptimized"));

TEST(VmdkInterop, CellaZeroedGrainsAndDiscardPassQemu) {
  TempDir dir;
  const std::string path = dir.file("z.vmdk");
  const uint64_t size = 16 * kGrain;
  ASSERT_TRUE(create(path, size, {{"zeroed_grain", "on"}}).ok());
  std::vector<uint8_t> expected = pattern(size, 5);
  {
    auto image = testing::open_ok(path);
    ASSERT_TRUE(image->write(0, expected).ok());
    ASSERT_TRUE(image->write_zeroes(kGrain, 3 * kGrain, true).ok());
    ASSERT_TRUE(image->discard(10 * kGrain, 2 * kGrain).ok());
    ASSERT_TRUE(image->flush().ok());
  }
  std::memset(expected.data() + kGrain, 0, 3 * kGrain);
  std::memset(expected.data() + 10 * kGrain, 0, 2 * kGrain);
  qemu_verifies(dir, path, expected);
}

TEST(VmdkInterop, CellaDeltaDiskPassesQemuCompare) {
  TempDir dir;
  const uint64_t size = 20 * kGrain + 512;
  std::vector<uint8_t> expected(size, 0);
  qemu_img(fmt::format("create -q -f vmdk {} {}", dir.file("base.vmdk"), size));
  qemu_io(dir.file("base.vmdk"), {{0, size, 0x42}}, expected);
  ASSERT_TRUE(create(dir.file("child.vmdk"), 0, {}, "base.vmdk").ok());
  {
    auto child = testing::open_ok(dir.file("child.vmdk"));
    ASSERT_TRUE(child);
    auto data = pattern(kGrain + 1000, 8);
    ASSERT_TRUE(child->write(3 * kGrain + 24, data).ok());
    std::memcpy(expected.data() + 3 * kGrain + 24, data.data(), data.size());
    ASSERT_TRUE(child->flush().ok());
  }
  qemu_verifies(dir, dir.file("child.vmdk"), expected);
  auto info = run_command("qemu-img info --backing-chain " + dir.file("child.vmdk"));
  EXPECT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(info.output.find("base.vmdk"), std::string::npos) << info.output;
}

}  // namespace
}  // namespace cella::block
