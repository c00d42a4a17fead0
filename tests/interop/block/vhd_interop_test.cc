// VHD interoperability with qemu-img and qemu-io ("vpc" to qemu): images qemu writes read back
// identical in Cella, images Cella writes compare identical in qemu-img.
#include <gtest/gtest.h>

#include <cstring>

#include "../../unit/block/image_test_support.h"
#include "vhd_interop_support.h"

namespace cella::block {
namespace {

using namespace testing;

// Writes qemu-io performs on its images: patterns across block boundaries, with gaps.
constexpr struct {
  const char* offset;
  const char* length;
  int pattern;
} kQemuWrites[] = {
    {"0", "64k", 0xab},    {"1M", "1536k", 0x11},  // crosses the 2 MiB block boundary
    {"5000k", "4k", 0xcd}, {"7m", "512", 0x5a},   {"9m", "300k", 0x77},
};

class VhdFromQemu : public ::testing::TestWithParam<const char*> {};

TEST_P(VhdFromQemu, ReadsWhatQemuWrote) {
  TempDir dir;
  const std::string image = dir.file("qemu.vhd"), raw = dir.file("qemu.raw");
  // 10 MiB + 3 sectors: not a multiple of the 2 MiB block, rounded by qemu's CHS rule unless
  // force_size.
  ASSERT_RUNS(qemu_img({"create", "-q", "-f", "vpc", "-o", GetParam(), image, "10487296"}));
  std::vector<std::string> commands;
  for (const auto& w : kQemuWrites) {
    commands.push_back(fmt::format("write -P {:#x} {} {}", w.pattern, w.offset, w.length));
  }
  ASSERT_RUNS(qemu_io("vpc", image, commands));
  ASSERT_RUNS(qemu_img({"convert", "-f", "vpc", "-O", "raw", image, raw}));
  auto opened = open_ok(image, true, "vhd");
  ASSERT_NE(opened, nullptr);
  const auto expected = read_host_file(raw);
  EXPECT_EQ(opened->size(), expected.size());
  EXPECT_EQ(read_all(*opened), expected);
  auto report = opened->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions + report->leaks, 0u);
}

INSTANTIATE_TEST_SUITE_P(Qemu, VhdFromQemu,
                         ::testing::Values("subformat=dynamic", "subformat=fixed",
                                           "subformat=dynamic,force_size=on",
                                           "subformat=fixed,force_size=on"));

class VhdToQemu : public ::testing::TestWithParam<const char*> {};

TEST_P(VhdToQemu, QemuReadsWhatCellaWrote) {
  TempDir dir;
  const std::string image = dir.file("cella.vhd"), raw = dir.file("expected.raw");
  const uint64_t size = 10487296;
  create_ok("vhd", image, size, {{"subformat", GetParam()}});
  std::vector<uint8_t> expected;
  {
    auto opened = open_ok(image, false, "vhd");
    ASSERT_NE(opened, nullptr);
    expected.assign(opened->size(), 0);
    const struct {
      uint64_t offset;
      size_t length;
    } writes[] = {{0, 65536},
                  {(1 << 20) + 7, 1536 * 1024},
                  {5000 * 1024, 4096},
                  {expected.size() - 1000, 1000},
                  {9 << 20, 1}};
    uint8_t seed = 1;
    for (const auto& w : writes) {
      const auto data = pattern(w.offset, w.length, seed++);
      ASSERT_OK(opened->write(w.offset, data));
      std::memcpy(&expected[w.offset], data.data(), data.size());
    }
    // A discarded range in the middle of written data reads as zeros in qemu too.
    ASSERT_OK(opened->discard((1 << 20) + 4096, 8192));
    std::fill(expected.begin() + (1 << 20) + 4096, expected.begin() + (1 << 20) + 12288, 0);
    ASSERT_OK(opened->flush());
  }
  write_file(raw, expected);
  const RunResult info = qemu_img({"info", "--output=json", "-f", "vpc", image});
  ASSERT_EQ(info.exit_code, 0) << describe(info);
  EXPECT_EQ(parse_json(info)["virtual-size"], expected.size()) << info.out;
  EXPECT_RUNS(qemu_img({"compare", "-f", "vpc", "-F", "raw", image, raw}));
  // And qemu can keep writing to it, which Cella then reads.
  ASSERT_RUNS(qemu_io("vpc", image, {"write -P 0x42 3m 1m"}));
  std::fill(expected.begin() + (3 << 20), expected.begin() + (4 << 20), 0x42);
  auto opened = open_ok(image, true, "vhd");
  ASSERT_NE(opened, nullptr);
  EXPECT_EQ(read_all(*opened), expected);
}

TEST_P(VhdToQemu, ResizedImageMatchesInQemu) {
  TempDir dir;
  const std::string image = dir.file("grow.vhd"), raw = dir.file("grow.raw");
  create_ok("vhd", image, 4 << 20,
            {{"subformat", GetParam()}, {"force_size", "on"}, {"block_size", "64k"}});
  std::vector<uint8_t> expected;
  {
    auto opened = open_ok(image, false, "vhd");
    ASSERT_NE(opened, nullptr);
    const auto data = pattern(0, 4 << 20, 3);
    ASSERT_OK(opened->write(0, data));
    // Past one BAT sector (128 blocks of 64 KiB): the dynamic disk moves its BAT.
    ASSERT_OK(opened->resize(20ull << 20));
    ASSERT_OK(opened->write((20ull << 20) - 4096, pattern(0, 4096, 4)));
    expected.assign(20ull << 20, 0);
    std::memcpy(expected.data(), data.data(), data.size());
    const auto tail = pattern(0, 4096, 4);
    std::memcpy(&expected[(20ull << 20) - 4096], tail.data(), tail.size());
  }
  write_file(raw, expected);
  EXPECT_RUNS(qemu_img({"compare", "-f", "vpc", "-F", "raw", image, raw}));
}

INSTANTIATE_TEST_SUITE_P(Subformats, VhdToQemu, ::testing::Values("dynamic", "fixed"));

}  // namespace
}  // namespace cella::block
