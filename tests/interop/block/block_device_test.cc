// Raw images on block devices (`convert -n` onto a disk, `info`, `map`), with a loop device.
// Needs root and a free loop device: skipped otherwise.
#include <gtest/gtest.h>

#include "interop_util.h"
#include "tests/support/temp_dir.h"

namespace cella::interop {
namespace {

class LoopDevice : public ::testing::Test {
 protected:
  void SetUp() override {
    backing_ = dir_.file("disk.img");
    ASSERT_EQ(qemu_img({"create", "-q", "-f", "raw", backing_, "8M"}).exit_code, 0);
    RunResult attached = run({"losetup", "--find", "--show", backing_});
    if (attached.exit_code != 0) GTEST_SKIP() << "no loop device: " << attached.err;
    device_ = attached.out.substr(0, attached.out.find('\n'));
  }
  void TearDown() override {
    if (!device_.empty()) run({"losetup", "--detach", device_});
  }

  cella::testing::TempDir dir_;
  std::string backing_;
  std::string device_;
};

TEST_F(LoopDevice, RawImagesOnBlockDevices) {
  RunResult info = cella({"info", "--output", "json", "-f", "raw", device_});
  ASSERT_EQ(info.exit_code, 0) << describe(info);
  EXPECT_EQ(parse_json(info)["virtual-size"], 8 << 20);

  const std::string source = dir_.file("source.raw");
  ASSERT_EQ(qemu_img({"create", "-q", "-f", "raw", source, "8M"}).exit_code, 0);
  qemu_io("raw", source, {"write -P 0x3c 1M 64k", "write -P 0x3d 7M 4k"});
  qemu_io("raw", device_, {"write -P 0xff 0 8M"});  // old content, overwritten below
  RunResult converted = cella({"convert", "-n", "-O", "raw", source, device_});
  ASSERT_EQ(converted.exit_code, 0) << describe(converted);
  RunResult compared = qemu_img({"compare", "-f", "raw", "-F", "raw", source, device_});
  EXPECT_EQ(compared.exit_code, 0) << describe(compared);

  // A device cannot report holes: all of it is data, at its own offsets.
  RunResult map = cella({"map", "--output", "json", "-f", "raw", device_});
  ASSERT_EQ(map.exit_code, 0) << describe(map);
  auto extents = parse_json(map);
  ASSERT_EQ(extents.size(), 1u) << map.out;
  EXPECT_EQ(extents[0]["data"], true);
  EXPECT_EQ(extents[0]["length"], 8 << 20);

  RunResult resized = cella({"resize", "-f", "raw", device_, "16M"});
  EXPECT_EQ(resized.exit_code, 1);
  EXPECT_NE(resized.err.find("cannot be resized"), std::string::npos) << resized.err;
}

}  // namespace
}  // namespace cella::interop
