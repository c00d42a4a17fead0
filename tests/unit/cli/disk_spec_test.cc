// `cella run --disk` and `--console` values.
#include "cli/disk_spec.h"

#include <gtest/gtest.h>

namespace cella::cli {
namespace {

TEST(DiskSpec, PathAlone) {
  auto disk = parse_disk_spec("/images/root.qcow2");
  ASSERT_TRUE(disk) << disk.error().message();
  EXPECT_EQ(disk->path, "/images/root.qcow2");
  EXPECT_EQ(disk->format, "");
  EXPECT_FALSE(disk->read_only);
  EXPECT_EQ(disk->serial, "");
}

TEST(DiskSpec, EveryKey) {
  auto disk = parse_disk_spec("d.img,format=raw,readonly=on,serial=DATA-01");
  ASSERT_TRUE(disk) << disk.error().message();
  EXPECT_EQ(disk->path, "d.img");
  EXPECT_EQ(disk->format, "raw");
  EXPECT_TRUE(disk->read_only);
  EXPECT_EQ(disk->serial, "DATA-01");
  auto off = parse_disk_spec("d.img,readonly=off");
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->read_only);
}

TEST(DiskSpec, DoubledCommaIsPartOfThePath) {
  auto disk = parse_disk_spec("a,,b.qcow2,format=qcow2");
  ASSERT_TRUE(disk) << disk.error().message();
  EXPECT_EQ(disk->path, "a,b.qcow2");
  EXPECT_EQ(disk->format, "qcow2");
}

TEST(DiskSpec, BadSpecsNameTheProblem) {
  struct Case {
    const char* spec;
    const char* message_part;
  };
  const Case cases[] = {
      {"", "expected PATH"},
      {",format=raw", "expected PATH"},
      {"d.img,format=qed", "unknown format 'qed'"},
      {"d.img,readonly=maybe", "readonly"},
      {"d.img,cache=none", "unknown key 'cache'"},
      {"d.img,format=raw,format=qcow2", "'format' given twice"},
      {"d.img,readonly", "is not key=value"},
      {"d.img,serial=123456789012345678901", "longer than 20 bytes"},
  };
  for (const Case& c : cases) {
    auto disk = parse_disk_spec(c.spec);
    ASSERT_FALSE(disk) << c.spec;
    EXPECT_NE(disk.error().message().find(c.message_part), std::string::npos)
        << c.spec << ": " << disk.error().message();
  }
}

TEST(ConsoleDevice, SerialOrVirtio) {
  EXPECT_EQ(*parse_console_device("serial"), machine::ConsoleDevice::kSerial);
  EXPECT_EQ(*parse_console_device("virtio"), machine::ConsoleDevice::kVirtio);
  EXPECT_FALSE(parse_console_device("ttyS0"));
  EXPECT_FALSE(parse_console_device(""));
}

}  // namespace
}  // namespace cella::cli
