// `cella img check` exit codes and repairs on damaged qcow2 images, checked with qemu-img:
// 2 for corruptions, 3 for leaks, 0 after repair. The damage is done by hand to images
// qemu-img created (QCOW2 spec, "Header" and "Host cluster management").
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "base/bits.h"
#include "block/format_registry.h"
#include "interop_util.h"
#include "tests/support/temp_dir.h"

namespace cella::interop {
namespace {

class QcowCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    if (block::find_format("qcow2") == nullptr) GTEST_SKIP() << "no qcow2 driver in this build";
    image_ = dir_.file("damaged.qcow2");
    ASSERT_EQ(qemu_img({"create", "-q", "-f", "qcow2", image_, "64M"}).exit_code, 0);
    qemu_io("qcow2", image_, {"write -P 0x21 0 1M"});
  }

  uint64_t be64_at(int fd, uint64_t offset) {
    uint8_t bytes[8];
    EXPECT_EQ(pread(fd, bytes, 8, static_cast<off_t>(offset)), 8);
    return load_be<uint64_t>(bytes);
  }

  // Sets the 16-bit refcount (the default refcount_bits) of one host cluster.
  void set_refcount(uint64_t cluster, uint16_t refcount) {
    const int fd = ::open(image_.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    uint8_t header[24];
    ASSERT_EQ(pread(fd, header, sizeof(header), 0), 24);
    const uint32_t cluster_bits = load_be<uint32_t>(header + 20);  // header bytes 20-23
    const uint64_t refcount_table = be64_at(fd, 48);               // header bytes 48-55
    const uint64_t first_block = be64_at(fd, refcount_table);
    ASSERT_LT(cluster, (uint64_t{1} << cluster_bits) / 2);  // covered by the first block
    uint8_t value[2];
    store_be<uint16_t>(value, refcount);
    ASSERT_EQ(pwrite(fd, value, 2, static_cast<off_t>(first_block + cluster * 2)), 2);
    const uint64_t end = (cluster + 1) << cluster_bits;
    if (static_cast<uint64_t>(lseek(fd, 0, SEEK_END)) < end) {
      ASSERT_EQ(ftruncate(fd, static_cast<off_t>(end)), 0);
    }
    ::close(fd);
  }

  uint64_t l1_cluster() {
    const int fd = ::open(image_.c_str(), O_RDONLY);
    const uint64_t l1 = be64_at(fd, 40);  // header bytes 40-47: l1_table_offset
    ::close(fd);
    return l1 >> 16;  // qemu-img's default 64 KiB clusters
  }

  cella::testing::TempDir dir_;
  std::string image_;
};

TEST_F(QcowCheck, LeaksExitThreeAndRepairLeaks) {
  set_refcount(200, 1);  // a cluster nothing references
  EXPECT_EQ(qemu_img({"check", image_}).exit_code, 3);
  RunResult check = cella({"check", image_});
  EXPECT_EQ(check.exit_code, 3) << describe(check);
  EXPECT_NE(check.out.find("leaked clusters were found"), std::string::npos) << check.out;
  RunResult json = cella({"check", "--output", "json", image_});
  EXPECT_EQ(json.exit_code, 3);
  EXPECT_EQ(parse_json(json)["leaks"], 1);
  RunResult repaired = cella({"check", "-r", "leaks", image_});
  EXPECT_EQ(repaired.exit_code, 0) << describe(repaired);
  EXPECT_NE(repaired.out.find("1 leaked clusters"), std::string::npos) << repaired.out;
  EXPECT_EQ(qemu_img({"check", image_}).exit_code, 0);
  qemu_io("qcow2", image_, {"read -P 0x21 0 1M"});
}

TEST_F(QcowCheck, CorruptionsExitTwoAndOnlyRepairAllFixesThem) {
  set_refcount(l1_cluster(), 0);  // the L1 table, in use, counted as free
  EXPECT_EQ(qemu_img({"check", image_}).exit_code, 2);
  RunResult check = cella({"check", image_});
  EXPECT_EQ(check.exit_code, 2) << describe(check);
  EXPECT_NE(check.out.find("errors were found on the image"), std::string::npos) << check.out;
  RunResult leaks_only = cella({"check", "-r", "leaks", image_});
  EXPECT_EQ(leaks_only.exit_code, 2) << describe(leaks_only);
  EXPECT_EQ(qemu_img({"check", image_}).exit_code, 2);  // untouched
  RunResult repaired = cella({"check", "-r", "all", image_});
  EXPECT_EQ(repaired.exit_code, 0) << describe(repaired);
  EXPECT_EQ(qemu_img({"check", image_}).exit_code, 0);
  qemu_io("qcow2", image_, {"read -P 0x21 0 1M"});
}

TEST_F(QcowCheck, ACheckThatCannotRunExitsOne) {
  const int fd = ::open(image_.c_str(), O_WRONLY);
  ASSERT_EQ(pwrite(fd, "QFI\xfb\x00\x00\x00\x09", 8, 0), 8);  // version 9: unknown
  ::close(fd);
  RunResult check = cella({"check", image_});
  EXPECT_EQ(check.exit_code, 1) << describe(check);
  EXPECT_FALSE(check.err.empty());
}

}  // namespace
}  // namespace cella::interop
