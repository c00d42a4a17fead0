#include "block/vmdk/descriptor.h"

#include <gtest/gtest.h>

#include "block/vmdk/sparse_header.h"
#include "disk_test_util.h"

namespace cella::block::vmdk {
namespace {

using testing::error_of;

constexpr std::string_view kFlat = R"(# Disk DescriptorFile
version=1
encoding="UTF-8"
CID=811785ff
parentCID=ffffffff
createType="monolithicFlat"

# Extent description
RW 20480 FLAT "f-flat.vmdk" 0
RDONLY 100 FLAT "other file.vmdk" 2048
NOACCESS 8 ZERO

# The Disk Data Base
#DDB

ddb.virtualHWVersion = "4"
ddb.geometry.cylinders = "20"
ddb.adapterType = "ide"
)";

TEST(VmdkDescriptor, ParsesHeaderExtentsAndDiskDatabase) {
  auto parsed = parse_descriptor(kFlat);
  ASSERT_TRUE(parsed.ok()) << error_of(parsed);
  const Descriptor& d = *parsed;
  EXPECT_EQ(d.version, 1u);
  EXPECT_EQ(d.cid, 0x811785ffu);
  EXPECT_FALSE(d.has_parent());
  EXPECT_EQ(d.create_type, "monolithicFlat");
  ASSERT_EQ(d.extents.size(), 3u);
  EXPECT_EQ(d.extents[0].access, ExtentAccess::kReadWrite);
  EXPECT_EQ(d.extents[0].sectors, 20480u);
  EXPECT_EQ(d.extents[0].type, ExtentType::kFlat);
  EXPECT_EQ(d.extents[0].file_name, "f-flat.vmdk");
  EXPECT_EQ(d.extents[1].access, ExtentAccess::kReadOnly);
  EXPECT_EQ(d.extents[1].file_name, "other file.vmdk");
  EXPECT_EQ(d.extents[1].offset_sectors, 2048u);
  EXPECT_EQ(d.extents[2].access, ExtentAccess::kNoAccess);
  EXPECT_EQ(d.extents[2].type, ExtentType::kZero);
  EXPECT_EQ(d.total_sectors(), 20480u + 100 + 8);
  EXPECT_EQ(d.value("ddb.adapterType"), "ide");
  EXPECT_EQ(d.value("encoding"), "UTF-8");
}

TEST(VmdkDescriptor, ReadsDeltaDiskKeysAndCrLfLines) {
  auto parsed = parse_descriptor(
      "# Disk DescriptorFile\r\nversion=1\r\nCID=0000abcd\r\nparentCID=12345678\r\n"
      "createType=\"monolithicSparse\"\r\nparentFileNameHint=\"base disk.vmdk\"\r\n"
      "RW 64 SPARSE \"child.vmdk\"\r\n");
  ASSERT_TRUE(parsed.ok()) << error_of(parsed);
  EXPECT_TRUE(parsed->has_parent());
  EXPECT_EQ(parsed->parent_cid, 0x12345678u);
  EXPECT_EQ(parsed->parent_file_name_hint, "base disk.vmdk");
  EXPECT_EQ(parsed->extents[0].type, ExtentType::kSparse);
}

TEST(VmdkDescriptor, EmbeddedTextEndsAtTheFirstNul) {
  std::string text = "version=1\nCID=1\ncreateType=\"monolithicSparse\"\n";
  text += std::string(100, '\0') + "garbage without equals\n";
  auto parsed = parse_descriptor(text);
  ASSERT_TRUE(parsed.ok()) << error_of(parsed);
  EXPECT_EQ(parsed->cid, 1u);
}

struct BadDescriptor {
  const char* text;
  const char* message;  // a part of the expected error
};

class VmdkBadDescriptor : public ::testing::TestWithParam<BadDescriptor> {};

TEST_P(VmdkBadDescriptor, IsRefusedWithAClearMessage) {
  auto parsed = parse_descriptor(GetParam().text);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message().find(GetParam().message), std::string::npos)
      << parsed.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    Hostile, VmdkBadDescriptor,
    ::testing::Values(
        BadDescriptor{"version=1\ncreateType=\"monolithicFlat\n", "unterminated string"},
        BadDescriptor{"version=1\nRW 20 FLAT \"x.vmdk\n", "unterminated string"},
        BadDescriptor{"version=1\nRW 99999999999999999999999 FLAT \"x\" 0\n", "too large"},
        BadDescriptor{"version=1\nRW 4398046511105 FLAT \"x\" 0\n", "too large"},
        BadDescriptor{"version=1\nRW 20 FLAT \"x\" 99999999999999999999\n", "too large"},
        BadDescriptor{"version=1\nRW -5 FLAT \"x\" 0\n", "not a decimal number"},
        BadDescriptor{"version=1\nRW 20 BOGUS \"x\"\n", "unknown extent type"},
        BadDescriptor{"version=1\nRW 20 FLAT x.vmdk 0\n", "quoted string"},
        BadDescriptor{"version=1\nRW 20 FLAT \"\" 0\n", "empty extent file name"},
        BadDescriptor{"version=1\nRW 20 FLAT \"x\" 0 junk\n", "unexpected 'junk'"},
        BadDescriptor{"version=1\nCID=123456789\n", "not a 32-bit hex value"},
        BadDescriptor{"version=1\nparentCID=xyz\n", "not a 32-bit hex value"},
        BadDescriptor{"version=9\n", "unsupported descriptor version"},
        BadDescriptor{"CID=1\n", "no 'version' line"},
        BadDescriptor{"version=1\nthis line means nothing\n", "neither a key = value line"},
        BadDescriptor{"version=1\nba d=1\n", "invalid key"},
        BadDescriptor{"version=1\n=1\n", "missing key"}));

TEST(VmdkDescriptor, RefusesTooManyExtentsAndOversizedText) {
  std::string many = "version=1\n";
  for (size_t i = 0; i <= kMaxExtents; ++i) many += "RW 1 ZERO\n";
  EXPECT_NE(error_of(parse_descriptor(many)).find("more than 4096 extents"), std::string::npos);
  std::string big(kMaxDescriptorBytes + 1, '#');
  EXPECT_NE(error_of(parse_descriptor(big)).find("larger than"), std::string::npos);
  // Extents whose sizes overflow the disk size limit together.
  std::string sum = "version=1\n";
  for (int i = 0; i < 3; ++i) sum += "RW 1099511627776 ZERO\n";
  EXPECT_NE(error_of(parse_descriptor(sum)).find("add up to more than"), std::string::npos);
}

TEST(VmdkDescriptor, ReplaceKeyKeepsEverythingElse) {
  const std::string text(kFlat);
  const std::string replaced = replace_key(text, "CID", "0badcafe");
  auto parsed = parse_descriptor(replaced);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->cid, 0x0badcafeu);
  EXPECT_EQ(replaced.size(), text.size());
  EXPECT_EQ(replaced.substr(0, 20), text.substr(0, 20));
  EXPECT_EQ(replaced.substr(61), text.substr(61));
  // A missing key goes right after "version=".
  const std::string added = replace_key("version=1\nx=2", "CID", "00000001");
  EXPECT_EQ(added, "version=1\nCID=00000001\nx=2");
}

TEST(VmdkDescriptor, FormattedDescriptorParsesBack) {
  NewDescriptor d;
  d.cid = 0x01020304;
  d.parent_cid = 0xa0b0c0d0;
  d.create_type = "twoGbMaxExtentSparse";
  d.parent_file_name_hint = "base.vmdk";
  d.extents = {{ExtentAccess::kReadWrite, 4194304, ExtentType::kSparse, "d-s001.vmdk", 0},
               {ExtentAccess::kReadWrite, 100, ExtentType::kFlat, "d-f.vmdk", 7}};
  d.ddb = {{"adapterType", "lsilogic"}};
  auto parsed = parse_descriptor(format_descriptor(d));
  ASSERT_TRUE(parsed.ok()) << error_of(parsed);
  EXPECT_EQ(parsed->cid, d.cid);
  EXPECT_EQ(parsed->parent_cid, d.parent_cid);
  EXPECT_EQ(parsed->parent_file_name_hint, "base.vmdk");
  ASSERT_EQ(parsed->extents.size(), 2u);
  EXPECT_EQ(parsed->extents[1].offset_sectors, 7u);
  EXPECT_EQ(parsed->value("ddb.adapterType"), "lsilogic");
}

TEST(VmdkSparseHeader, RoundTripsAndValidates) {
  SparseHeader header;
  header.version = 2;
  header.flags |= kFlagZeroedGrainGte;
  header.capacity = 20480;
  header.descriptor_offset = 1;
  header.descriptor_size = 20;
  header.rgd_offset = 21;
  header.gd_offset = 26;
  header.overhead = 128;
  std::vector<uint8_t> sector(512);
  encode_sparse_header(header, sector);
  EXPECT_EQ(std::string(sector.begin(), sector.begin() + 4), "KDMV");
  auto decoded = decode_sparse_header(sector);
  ASSERT_TRUE(decoded.ok()) << error_of(decoded);
  EXPECT_EQ(decoded->capacity, 20480u);
  EXPECT_EQ(decoded->gd_offset, 26u);
  EXPECT_TRUE(decoded->zeroed_grain());
  EXPECT_TRUE(decoded->redundant());
  EXPECT_EQ(decoded->gd_entries(), 1u);

  auto damaged = sector;
  damaged[75] = '\n';  // "\r\n" became "\n\n": a text-mode transfer
  EXPECT_NE(error_of(decode_sparse_header(damaged)).find("text mode"), std::string::npos);
  auto grain = sector;
  grain[20] = 3;  // grain size 3 sectors: not a power of two
  EXPECT_NE(error_of(decode_sparse_header(grain)).find("grain size"), std::string::npos);
  auto version = sector;
  version[4] = 7;
  EXPECT_NE(error_of(decode_sparse_header(version)).find("version 7"), std::string::npos);
  auto gtes = sector;
  gtes[44] = 0;
  gtes[45] = 4;  // 1024 entries per grain table
  EXPECT_NE(error_of(decode_sparse_header(gtes)).find("entries per grain table"),
            std::string::npos);
  auto cowd = sector;
  std::memcpy(cowd.data(), "COWD", 4);
  EXPECT_NE(error_of(decode_sparse_header(cowd)).find("COWD"), std::string::npos);
  auto huge = sector;
  huge[19] = 0x40;  // capacity 2^62 sectors
  EXPECT_NE(error_of(decode_sparse_header(huge)).find("capacity"), std::string::npos);
}

}  // namespace
}  // namespace cella::block::vmdk
