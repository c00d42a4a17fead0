// VHDX interoperability with qemu-img and qemu-io: images qemu writes read back identical in
// Cella; images Cella writes pass `qemu-img check` and compare identical.
#include <gtest/gtest.h>

#include <cstring>

#include "../../unit/block/image_test_support.h"
#include "vhd_interop_support.h"

namespace cella::block {
namespace {

using namespace testing;

constexpr struct {
  const char* offset;
  const char* length;
  int pattern;
} kQemuWrites[] = {
    {"0", "64k", 0xab},    {"1M", "1536k", 0x11},  // crosses a 1 MiB block boundary
    {"5000k", "4k", 0xcd}, {"7m", "512", 0x5a},   {"9m", "300k", 0x77},
};

class VhdxFromQemu : public ::testing::TestWithParam<const char*> {};

TEST_P(VhdxFromQemu, ReadsWhatQemuWrote) {
  TempDir dir;
  const std::string image = dir.file("qemu.vhdx"), raw = dir.file("qemu.raw");
  const uint64_t size = 10487296;  // not a multiple of the block size
  ASSERT_RUNS(
      qemu_img({"create", "-q", "-f", "vhdx", "-o", GetParam(), image, std::to_string(size)}));
  std::vector<std::string> commands;
  for (const auto& w : kQemuWrites) {
    commands.push_back(fmt::format("write -P {:#x} {} {}", w.pattern, w.offset, w.length));
  }
  ASSERT_RUNS(qemu_io("vhdx", image, commands));
  ASSERT_RUNS(qemu_img({"convert", "-f", "vhdx", "-O", "raw", image, raw}));
  auto opened = open_ok(image, true);
  ASSERT_NE(opened, nullptr);
  const auto expected = read_host_file(raw);
  EXPECT_EQ(opened->size(), expected.size());
  EXPECT_EQ(read_all(*opened), expected);
  auto report = opened->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions + report->leaks, 0u);
  for (const auto& message : report->messages) ADD_FAILURE() << message;
}

INSTANTIATE_TEST_SUITE_P(Qemu, VhdxFromQemu,
                         ::testing::Values("subformat=dynamic", "subformat=dynamic,block_size=1M",
                                           "subformat=dynamic,block_state_zero=off",
                                           "subformat=fixed,block_size=1M",
                                           "subformat=dynamic,log_size=2M"));

TEST(VhdxFromQemu, ManyBlocksAcrossBatPages) {
  // With 1 MiB blocks, 512 payload entries fill a 4 KiB page of the BAT: writes beyond it
  // update several pages.
  TempDir dir;
  const std::string image = dir.file("big.vhdx"), raw = dir.file("big.raw");
  ASSERT_RUNS(qemu_img({"create", "-q", "-f", "vhdx", "-o", "block_size=1M", image, "700M"}));
  std::vector<std::string> writes;
  for (const char* offset : {"0", "1M", "511M", "512M", "513M", "699M"}) {
    writes.push_back(fmt::format("write -P 0x3c {} 4k", offset));
  }
  ASSERT_RUNS(qemu_io("vhdx", image, writes));
  auto opened = open_ok(image, true);
  ASSERT_NE(opened, nullptr);
  for (uint64_t mib : {0, 1, 511, 512, 513, 699}) {
    std::vector<uint8_t> bytes(8192);
    ASSERT_OK(opened->read(mib << 20, bytes));
    EXPECT_TRUE(std::all_of(bytes.begin(), bytes.begin() + 4096, [](uint8_t b) {
      return b == 0x3c;
    })) << mib;
    EXPECT_TRUE(std::all_of(bytes.begin() + 4096, bytes.end(), [](uint8_t b) { return b == 0; }))
        << mib;
  }
  auto report = opened->check(false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corruptions, 0u);
}

class VhdxToQemu : public ::testing::TestWithParam<const char*> {};

TEST_P(VhdxToQemu, QemuChecksAndReadsWhatCellaWrote) {
  TempDir dir;
  const std::string image = dir.file("cella.vhdx"), raw = dir.file("expected.raw");
  const uint64_t size = 10487296;
  create_ok("vhdx", image, size, {{"subformat", GetParam()}, {"block_size", "1M"}});
  std::vector<uint8_t> expected(size, 0);
  {
    auto opened = open_ok(image);
    ASSERT_NE(opened, nullptr);
    const struct {
      uint64_t offset;
      size_t length;
    } writes[] = {{0, 65536},
                  {(1 << 20) + 7, 1536 * 1024},
                  {5000 * 1024, 4096},
                  {size - 1000, 1000},
                  {9 << 20, 1}};
    uint8_t seed = 1;
    for (const auto& w : writes) {
      const auto data = pattern(w.offset, w.length, seed++);
      ASSERT_OK(opened->write(w.offset, data));
      std::memcpy(&expected[w.offset], data.data(), data.size());
    }
    ASSERT_OK(opened->discard(3 << 20, 1 << 20));  // a whole block
    std::fill(expected.begin() + (3 << 20), expected.begin() + (4 << 20), 0);
    ASSERT_OK(opened->write_zeroes((1 << 20) + 4096, 8192, true));
    std::fill(expected.begin() + (1 << 20) + 4096, expected.begin() + (1 << 20) + 12288, 0);
  }
  write_file(raw, expected);
  EXPECT_RUNS(qemu_img({"check", "-f", "vhdx", image}));
  EXPECT_RUNS(qemu_img({"compare", "-f", "vhdx", "-F", "raw", image, raw}));
  // qemu keeps writing (through its own log), and Cella reads the result.
  ASSERT_RUNS(qemu_io("vhdx", image, {"write -P 0x42 6m 1m", "write -P 0x43 3m 4k"}));
  std::fill(expected.begin() + (6 << 20), expected.begin() + (7 << 20), 0x42);
  std::fill(expected.begin() + (3 << 20), expected.begin() + (3 << 20) + 4096, 0x43);
  auto opened = open_ok(image, true);
  ASSERT_NE(opened, nullptr);
  EXPECT_EQ(read_all(*opened), expected);
}

TEST_P(VhdxToQemu, ResizedImageMatchesInQemu) {
  TempDir dir;
  const std::string image = dir.file("grow.vhdx"), raw = dir.file("grow.raw");
  create_ok("vhdx", image, 4 << 20, {{"subformat", GetParam()}, {"block_size", "1M"}});
  const uint64_t size = 12 << 20;
  std::vector<uint8_t> expected(size, 0);
  {
    auto opened = open_ok(image);
    ASSERT_NE(opened, nullptr);
    const auto data = pattern(0, 4 << 20, 3);
    ASSERT_OK(opened->write(0, data));
    ASSERT_OK(opened->resize(size));
    ASSERT_OK(opened->write(size - 4096, pattern(0, 4096, 4)));
    std::memcpy(expected.data(), data.data(), data.size());
    const auto tail = pattern(0, 4096, 4);
    std::memcpy(&expected[size - 4096], tail.data(), tail.size());
  }
  write_file(raw, expected);
  EXPECT_RUNS(qemu_img({"check", "-f", "vhdx", image}));
  EXPECT_RUNS(qemu_img({"compare", "-f", "vhdx", "-F", "raw", image, raw}));
}

INSTANTIATE_TEST_SUITE_P(Subformats, VhdxToQemu, ::testing::Values("dynamic", "fixed"));

TEST(VhdxToQemu, MovedBatIsReadByQemu) {
  // Growing a dynamic image past what its BAT region holds moves the BAT (and rewrites both
  // region tables through the log); qemu must follow.
  TempDir dir;
  const std::string image = dir.file("moved.vhdx");
  create_ok("vhdx", image, 1 << 20, {{"block_size", "1M"}});
  {
    auto opened = open_ok(image);
    ASSERT_OK(opened->write(0, std::vector<uint8_t>(4096, 0x61)));
    ASSERT_OK(opened->resize(130ull << 30));  // 133120 entries: more than a 1 MiB BAT region
    ASSERT_OK(opened->write((130ull << 30) - 4096, std::vector<uint8_t>(4096, 0x62)));
  }
  EXPECT_RUNS(qemu_img({"check", "-f", "vhdx", image}));
  const RunResult reads = qemu_io(
      "vhdx", image, {"read -P 0x61 0 4k", "read -P 0x62 139586433024 4k", "read -P 0 64g 4k"});
  EXPECT_EQ(reads.exit_code, 0) << describe(reads);
  EXPECT_EQ(reads.out.find("Pattern verification failed"), std::string::npos) << reads.out;
}

}  // namespace
}  // namespace cella::block
