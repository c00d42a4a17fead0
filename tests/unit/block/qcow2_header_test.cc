// Hostile and unsupported qcow2 headers: each is refused with an error naming the problem.
#include <gtest/gtest.h>

#include "base/bits.h"
#include "block/qcow2/header.h"
#include "qcow2_test_support.h"

namespace cella::block::qcow2::testing {
namespace {

// A valid version 3 header (64 KiB clusters, 1 MiB disk) as bytes, for mutation.
std::vector<uint8_t> valid_first_cluster() {
  Header h;
  h.size = 1 << 20;
  h.l1_size = 1;
  h.l1_table_offset = 3 << 16;
  h.refcount_table_offset = 1 << 16;
  h.refcount_table_clusters = 1;
  h.feature_names = default_feature_names();
  auto bytes = serialize_header(h);
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? *bytes : std::vector<uint8_t>();
}

constexpr uint64_t kFileSize = 4 << 16;

std::string parse_error(const std::vector<uint8_t>& bytes, uint64_t file_size = kFileSize) {
  auto parsed = parse_header(bytes, file_size);
  return parsed.ok() ? std::string("(parsed)") : parsed.error().message();
}

template <class T>
std::vector<uint8_t> with(std::vector<uint8_t> bytes, uint32_t offset, T value) {
  store_be<T>(&bytes[offset], value);
  return bytes;
}

TEST(Qcow2Header, ValidHeaderParses) {
  auto parsed = parse_header(valid_first_cluster(), kFileSize);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(parsed->version, 3u);
  EXPECT_EQ(parsed->size, 1u << 20);
  EXPECT_EQ(parsed->header_length, kV3HeaderLength);
  EXPECT_EQ(parsed->feature_names.size(), default_feature_names().size());
}

TEST(Qcow2Header, RefusesWhatItCannotRead) {
  const auto good = valid_first_cluster();
  struct Case {
    std::vector<uint8_t> bytes;
    const char* expected;
  };
  const Case cases[] = {
      {with<uint32_t>(good, kOffMagic, 0x514649fc), "bad magic"},
      {with<uint32_t>(good, kOffVersion, 4), "unsupported qcow2 version 4"},
      {with<uint32_t>(good, kOffClusterBits, 8), "cluster_bits 8"},
      {with<uint32_t>(good, kOffClusterBits, 22), "cluster_bits 22"},
      {with<uint32_t>(good, kOffCryptMethod, 1), "encrypted images (crypt_method 1, AES)"},
      {with<uint32_t>(good, kOffCryptMethod, 2), "crypt_method 2, LUKS"},
      {with<uint64_t>(good, kOffIncompatibleFeatures, kIncompatExternalData), "external data file"},
      {with<uint32_t>(with<uint64_t>(good, kOffIncompatibleFeatures, kIncompatExtendedL2),
                      kOffClusterBits, 12),
       "extended L2 entries need clusters of at least 16 KiB"},
      {with<uint64_t>(good, kOffIncompatibleFeatures, 1ull << 9),
       "unsupported incompatible feature bit 9 (unknown to Cella and unnamed in the image)"},
      {with<uint32_t>(good, kOffRefcountOrder, 7), "refcount_order 7"},
      {with<uint32_t>(good, kOffHeaderLength, 100), "header_length 100"},
      {with<uint32_t>(good, kOffHeaderLength, 108), "header_length 108"},
      {with<uint32_t>(good, kOffL1Size, 0), "L1 table of 0 entries is too small"},
      {with<uint32_t>(good, kOffL1Size, 5000000), "exceeds the 32 MiB limit"},
      {with<uint64_t>(good, kOffL1TableOffset, 12345), "L1 table offset 0x3039"},
      {with<uint64_t>(good, kOffL1TableOffset, 1ull << 40), "beyond the end of the file"},
      {with<uint64_t>(good, kOffRefcountTableOffset, 0), "refcount table offset 0x0"},
      {with<uint32_t>(good, kOffRefcountTableClusters, 1000), "refcount table"},
      {with<uint32_t>(good, kOffNbSnapshots, 100000), "100000 snapshots"},
      {with<uint64_t>(good, kOffIncompatibleFeatures, kIncompatCompressionType),
       "compression_type is zlib or absent"},
      {with<uint8_t>(good, kOffCompressionType, 1), "incompatible feature bit 3 is clear"},
      {with<uint8_t>(with<uint64_t>(good, kOffIncompatibleFeatures, kIncompatCompressionType),
                     kOffCompressionType, 7),
       "unknown compression_type 7"},
      {with<uint64_t>(with<uint32_t>(good, kOffBackingFileSize, 2000), kOffBackingFileOffset, 512),
       "backing file name (2000 bytes at offset 512)"},
      {std::vector<uint8_t>(good.begin(), good.begin() + 50), "too small for a qcow2 header"},
  };
  for (const Case& c : cases) {
    const std::string error = parse_error(c.bytes);
    EXPECT_NE(error.find(c.expected), std::string::npos)
        << "expected '" << c.expected << "', got: " << error;
  }
}

TEST(Qcow2Header, UnknownIncompatibleBitIsNamedFromTheFeatureTable) {
  Header h;
  h.size = 1 << 20;
  h.l1_size = 1;
  h.l1_table_offset = 3 << 16;
  h.refcount_table_offset = 1 << 16;
  h.refcount_table_clusters = 1;
  h.incompatible_features = 1ull << 12;
  h.feature_names = {{FeatureType::kIncompatible, 12, "time travel"}};
  auto bytes = serialize_header(h);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(parse_error(*bytes), "unsupported incompatible feature bit 12 ('time travel')");
}

TEST(Qcow2Header, ExtensionOverflowingTheClusterIsRefused) {
  auto bytes = valid_first_cluster();
  // Replace the first extension's length by one that runs past the cluster.
  store_be<uint32_t>(&bytes[kV3HeaderLength + 4], 70000);
  EXPECT_NE(parse_error(bytes).find("overflows the header area"), std::string::npos);
}

TEST(Qcow2Header, SerializeAndParseRoundTripKeepsEverything) {
  Header h;
  h.version = 3;
  h.cluster_bits = 12;
  h.size = 5 << 20;
  h.l1_size = 3;
  h.l1_table_offset = 4096 * 3;
  h.refcount_table_offset = 4096;
  h.refcount_table_clusters = 1;
  h.compatible_features = kCompatLazyRefcounts;
  h.incompatible_features = kIncompatCompressionType;
  h.compression_type = CompressionType::kZstd;
  h.refcount_order = 5;
  h.backing_file = "../base image.qcow2";
  h.backing_format = "qcow2";
  h.unknown_extensions = {{0x12345678, {1, 2, 3}}};
  h.unknown_additional_fields = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};
  auto bytes = serialize_header(h);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message();
  auto back = parse_header(*bytes, 1 << 20);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->cluster_bits, 12u);
  EXPECT_EQ(back->size, 5u << 20);
  EXPECT_EQ(back->compression_type, CompressionType::kZstd);
  EXPECT_EQ(back->refcount_order, 5u);
  EXPECT_TRUE(back->lazy_refcounts());
  EXPECT_EQ(back->backing_file, "../base image.qcow2");
  EXPECT_EQ(back->backing_format, "qcow2");
  ASSERT_EQ(back->unknown_extensions.size(), 1u);
  EXPECT_EQ(back->unknown_extensions[0].second, (std::vector<uint8_t>{1, 2, 3}));
  // The zero padding to a multiple of 8 reads back as (zero) additional fields.
  auto expected_fields = h.unknown_additional_fields;
  expected_fields.resize(15, 0);
  EXPECT_EQ(back->unknown_additional_fields, expected_fields);
  EXPECT_EQ(back->header_length, 120u);  // 105 + 11 bytes, padded to 8
}

TEST(Qcow2Header, Version2HasNoFeatureFields) {
  Header h;
  h.version = 2;
  h.size = 1 << 20;
  h.l1_size = 1;
  h.l1_table_offset = 3 << 16;
  h.refcount_table_offset = 1 << 16;
  h.refcount_table_clusters = 1;
  h.backing_file = "base.qcow2";
  auto bytes = serialize_header(h);
  ASSERT_TRUE(bytes.ok());
  auto back = parse_header(*bytes, kFileSize);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->header_length, kV2HeaderLength);
  EXPECT_EQ(back->refcount_order, 4u);
  EXPECT_EQ(back->backing_file, "base.qcow2");
}

TEST(Qcow2Header, ImagesOnDiskWithRefusedFeaturesFailToOpenByName) {
  TempDir dir;
  const std::string path = dir.file("a.qcow2");
  create_qcow2(path, 1 << 20);
  {
    auto file = HostFile::open(path, Access::kReadWrite);
    ASSERT_TRUE(file.ok());
    uint8_t bits[8];
    store_be<uint64_t>(bits, kIncompatExternalData);
    ASSERT_TRUE(file->write(kOffIncompatibleFeatures, bits).ok());
  }
  OpenOptions options;
  auto image = open_image(path, options);
  ASSERT_FALSE(image.ok());
  EXPECT_NE(image.error().message().find("external data file"), std::string::npos);
  EXPECT_NE(image.error().message().find(path), std::string::npos);
}

}  // namespace
}  // namespace cella::block::qcow2::testing
