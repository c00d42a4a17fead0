// Images written by qemu-img and qemu-io, read by Cella: identical content, the same allocation
// map as `qemu-img map`, and a clean Cella check.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "block/format_registry.h"
#include "block/qcow2/qcow2_image.h"
#include "tests/support/qemu_tools.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_data.h"

namespace cella::block {
namespace {

using cella::testing::qemu_content;
using cella::testing::quote;
using cella::testing::run_command;
using cella::testing::TempDir;

std::unique_ptr<BlockImage> open_read_only(const std::string& path) {
  OpenOptions options;
  options.read_only = true;
  auto image = open_image(path, options);
  EXPECT_TRUE(image.ok()) << (image.ok() ? "" : image.error().message());
  return image.ok() ? std::move(image).value() : nullptr;
}

std::vector<uint8_t> cella_content(BlockImage& image) {
  std::vector<uint8_t> out(image.size());
  auto result = image.read(0, out);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message());
  return out;
}

void expect_clean_check(BlockImage& image) {
  auto report = image.check(false);
  ASSERT_TRUE(report.ok()) << report.error().message();
  std::string messages;
  for (const auto& m : report->messages) messages += m + "\n";
  EXPECT_EQ(report->corruptions, 0u) << messages;
  EXPECT_EQ(report->leaks, 0u) << messages;
}

// `qemu-img check --output json`, taken before Cella opens the image (locks).
nlohmann::json qemu_check(const std::string& image) {
  auto result = run_command("qemu-img check -U --output json " + quote(image));
  EXPECT_EQ(result.exit_code, 0) << result.output;
  return nlohmann::json::parse(result.output, nullptr, /*allow_exceptions=*/false);
}

// Cella's check statistics are qemu-img check's: allocated, fragmented and compressed clusters,
// the image end offset.
void expect_same_check_statistics(BlockImage& image, const nlohmann::json& qemu) {
  ASSERT_TRUE(qemu.is_object()) << qemu.dump();
  auto report = image.check(false);
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_EQ(report->total_clusters, qemu.value("total-clusters", uint64_t{0}));
  EXPECT_EQ(report->allocated_clusters, qemu.value("allocated-clusters", uint64_t{0}));
  EXPECT_EQ(report->fragmented_clusters, qemu.value("fragmented-clusters", uint64_t{0}));
  EXPECT_EQ(report->compressed_clusters, qemu.value("compressed-clusters", uint64_t{0}));
  EXPECT_EQ(report->image_end_offset, qemu.value("image-end-offset", uint64_t{0}));
}

// qemu-img cannot open an image Cella holds open (locks): take its map first.
void expect_same_map(BlockImage& image,
                     const std::optional<std::vector<testing::MapRecord>>& qemu) {
  ASSERT_TRUE(qemu.has_value());
  auto ours = image.map(0, image.size());
  ASSERT_TRUE(ours.ok()) << ours.error().message();
  const auto cella = testing::as_qemu_map(*ours);
  // qemu reports preallocated clusters over host holes as "zero"; data/present/offset agree.
  EXPECT_EQ(cella, *qemu) << "cella:\n"
                          << testing::describe(cella, *qemu) << "qemu:\n"
                          << testing::describe(*qemu, cella);
}

// Runs qemu-io commands against an image; each element is one -c argument.
void qemu_io(const std::string& image, const std::vector<std::string>& commands) {
  std::string line = "qemu-io -f qcow2";
  for (const std::string& c : commands) line += " -c " + quote(c);
  auto result = run_command(line + " " + quote(image));
  ASSERT_EQ(result.exit_code, 0) << line << "\n" << result.output;
  ASSERT_EQ(result.output.find("error"), std::string::npos) << line << "\n" << result.output;
}

void qemu_img(const std::string& arguments) {
  auto result = run_command("qemu-img " + arguments);
  ASSERT_EQ(result.exit_code, 0) << "qemu-img " << arguments << "\n" << result.output;
}

struct Variant {
  const char* name;
  const char* options;
  uint64_t size;
};

class FromQemu : public ::testing::TestWithParam<Variant> {};

// A mix of writes: unaligned, spanning clusters, zeroes with and without unmap, discards,
// rewrites, and the last bytes of the disk.
std::vector<std::string> mixed_writes(uint64_t size) {
  const auto at = [](uint64_t value) { return std::to_string(value); };
  return {
      "write -P 0x11 0 5000",
      "write -P 0x22 70000 200000",
      "write -P 0x33 " + at(size / 2 - 3000) + " 6000",
      "write -z " + at(size / 4) + " 131072",
      "write -P 0x44 " + at(size / 4 + 1000) + " 1000",
      "write -z -u 70000 65536",
      "discard 0 4096",
      "write -P 0x55 " + at(size - 777) + " 777",
      "write -P 0x66 " + at(size / 3) + " 300000",
      "discard " + at(size / 3 + 65536) + " 131072",
  };
}

TEST_P(FromQemu, ContentMapAndCheckAgree) {
  CELLA_REQUIRE_QEMU();
  const Variant& v = GetParam();
  TempDir dir;
  const std::string image = dir.file("qemu.qcow2");
  qemu_img(std::string("create -q -f qcow2 -o ") + v.options + " " + quote(image) + " " +
           std::to_string(v.size));
  qemu_io(image, mixed_writes(v.size));
  auto expected = qemu_content(dir, image, "qcow2");
  ASSERT_TRUE(expected.has_value());
  const auto qemu_map = testing::qemu_map(image, "qcow2");
  const auto qemu_statistics = qemu_check(image);
  auto ours = open_read_only(image);
  ASSERT_TRUE(ours);
  EXPECT_EQ(ours->size(), v.size);
  EXPECT_TRUE(cella_content(*ours) == *expected);
  expect_same_map(*ours, qemu_map);
  expect_clean_check(*ours);
  expect_same_check_statistics(*ours, qemu_statistics);
}

INSTANTIATE_TEST_SUITE_P(
    Variants, FromQemu,
    ::testing::Values(
        Variant{"v2_64k", "compat=0.10", 16 << 20}, Variant{"v3_64k", "compat=1.1", 16 << 20},
        Variant{"v2_4k", "compat=0.10,cluster_size=4k", 4 << 20},
        Variant{"v3_512", "cluster_size=512", 3 << 20},
        Variant{"v3_4k_size_not_cluster_multiple", "cluster_size=4k", (10 << 20) + 1536},
        Variant{"v3_2M", "cluster_size=2M", (9 << 20) + 512},
        Variant{"v3_refcount_bits_1", "cluster_size=4k,refcount_bits=1", 4 << 20},
        Variant{"v3_refcount_bits_64", "refcount_bits=64", 8 << 20},
        Variant{"v3_lazy_refcounts", "lazy_refcounts=on", 8 << 20},
        Variant{"v3_prealloc_metadata", "preallocation=metadata", 4 << 20},
        Variant{"v3_prealloc_falloc", "preallocation=falloc", 4 << 20},
        Variant{"v3_zstd", "compression_type=zstd", 8 << 20},
        Variant{"v3_extended_l2", "extended_l2=on", 16 << 20},
        Variant{"v3_extended_l2_16k", "extended_l2=on,cluster_size=16k", (4 << 20) + 1536}),
    [](const ::testing::TestParamInfo<Variant>& param) { return std::string(param.param.name); });

// A raw file where some clusters compress well, some not at all, some are zero.
std::vector<uint8_t> mixed_content(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> data(size, 0);
  for (size_t off = 0; off < size; off += 65536) {
    const size_t n = std::min<size_t>(65536, size - off);
    switch (rng() % 3) {
      case 0:
        for (size_t i = 0; i < n; ++i) data[off + i] = static_cast<uint8_t>(i / 97 + off / 65536);
        break;
      case 1:
        for (size_t i = 0; i < n; ++i) data[off + i] = static_cast<uint8_t>(rng());
        break;
      default:
        break;  // zeros
    }
  }
  return data;
}

class CompressedFromQemu : public ::testing::TestWithParam<const char*> {};

TEST_P(CompressedFromQemu, ConvertedImagesReadIdentically) {
  CELLA_REQUIRE_QEMU();
  TempDir dir;
  const auto data = mixed_content((6 << 20) + 4096, 11);
  const std::string raw = dir.file("source.raw");
  testing::write_whole_file(raw, data);
  const std::string image = dir.file("compressed.qcow2");
  qemu_img(std::string("convert -c -f raw -O qcow2 -o ") + GetParam() + " " + quote(raw) + " " +
           quote(image));
  const auto qemu_map = testing::qemu_map(image, "qcow2");
  const auto qemu_statistics = qemu_check(image);
  auto ours = open_read_only(image);
  ASSERT_TRUE(ours);
  EXPECT_TRUE(cella_content(*ours) == data);
  expect_same_map(*ours, qemu_map);
  expect_clean_check(*ours);
  expect_same_check_statistics(*ours, qemu_statistics);
}

INSTANTIATE_TEST_SUITE_P(Types, CompressedFromQemu,
                         ::testing::Values("compression_type=zlib", "compression_type=zstd",
                                           "compression_type=zlib,cluster_size=4k",
                                           "compression_type=zstd,cluster_size=2M",
                                           "compat=0.10,cluster_size=16k"));

TEST(FromQemu, BackingChainOfDepthFourReadsThrough) {
  CELLA_REQUIRE_QEMU();
  TempDir dir;
  const uint64_t size = 8 << 20;
  // base (v2, 4k clusters) <- mid1 (v3, 64k) <- mid2 (v3, 512) <- top (v3, 16k, shorter base)
  qemu_img("create -q -f qcow2 -o compat=0.10,cluster_size=4k " + quote(dir.file("base.qcow2")) +
           " " + std::to_string(size - (1 << 20)));
  qemu_io(dir.file("base.qcow2"), {"write -P 0xa1 0 3M", "write -P 0xa2 5M 1M"});
  qemu_img("create -q -f qcow2 -F qcow2 -b base.qcow2 " + quote(dir.file("mid1.qcow2")) + " " +
           std::to_string(size));
  qemu_io(dir.file("mid1.qcow2"),
          {"write -P 0xb1 1M 70000", "write -z 2M 65536", "write -P 0xb2 7M 4096"});
  qemu_img("create -q -f qcow2 -o cluster_size=512 -F qcow2 -b mid1.qcow2 " +
           quote(dir.file("mid2.qcow2")));
  qemu_io(dir.file("mid2.qcow2"), {"write -P 0xc1 1000 3000", "discard 1048576 512"});
  qemu_img("create -q -f qcow2 -o cluster_size=16k -F qcow2 -b mid2.qcow2 " +
           quote(dir.file("top.qcow2")));
  qemu_io(dir.file("top.qcow2"), {"write -P 0xd1 2000 100", "write -z 5M 32768"});
  auto expected = qemu_content(dir, dir.file("top.qcow2"), "qcow2");
  ASSERT_TRUE(expected.has_value());
  const auto qemu_map = testing::qemu_map(dir.file("top.qcow2"), "qcow2");
  auto top = open_read_only(dir.file("top.qcow2"));
  ASSERT_TRUE(top);
  int depth = 0;
  for (BlockImage* image = top.get(); image->backing() != nullptr; image = image->backing())
    ++depth;
  EXPECT_EQ(depth, 3);
  EXPECT_TRUE(cella_content(*top) == *expected);
  expect_same_map(*top, qemu_map);
  expect_clean_check(*top);
}

TEST(FromQemu, SubclustersOverABackingFileReadThroughPerSubcluster) {
  CELLA_REQUIRE_QEMU();
  TempDir dir;
  qemu_img("create -q -f qcow2 " + quote(dir.file("base.qcow2")) + " 4M");
  qemu_io(dir.file("base.qcow2"), {"write -P 0x10 0 4M"});
  // 64 KiB clusters of 32 subclusters of 2 KiB: small writes allocate single subclusters.
  qemu_img("create -q -f qcow2 -o extended_l2=on -F qcow2 -b base.qcow2 " +
           quote(dir.file("top.qcow2")));
  qemu_io(dir.file("top.qcow2"),
          {"write -P 0x20 2048 2048", "write -P 0x21 10000 100", "write -z 65536 4096",
           "write -z -u 131072 65536", "discard 262144 8192", "write -P 0x22 300000 70000"});
  auto expected = qemu_content(dir, dir.file("top.qcow2"), "qcow2");
  ASSERT_TRUE(expected.has_value());
  const auto qemu_map = testing::qemu_map(dir.file("top.qcow2"), "qcow2");
  auto top = open_read_only(dir.file("top.qcow2"));
  ASSERT_TRUE(top);
  EXPECT_TRUE(cella_content(*top) == *expected);
  expect_same_map(*top, qemu_map);
  expect_clean_check(*top);
}

TEST(FromQemu, InternalSnapshotsAreListedAndCounted) {
  CELLA_REQUIRE_QEMU();
  TempDir dir;
  const std::string image = dir.file("snap.qcow2");
  qemu_img("create -q -f qcow2 " + quote(image) + " 4M");
  qemu_io(image, {"write -P 1 0 1M"});
  qemu_img("snapshot -c first " + quote(image));
  qemu_io(image, {"write -P 2 512k 1M"});
  qemu_img("snapshot -c second " + quote(image));
  auto ours = open_read_only(image);
  ASSERT_TRUE(ours);
  auto* qcow2 = dynamic_cast<qcow2::Qcow2Image*>(ours.get());
  ASSERT_NE(qcow2, nullptr);
  ASSERT_EQ(qcow2->snapshots().size(), 2u);
  EXPECT_EQ(qcow2->snapshots()[0].name, "first");
  EXPECT_EQ(qcow2->snapshots()[1].name, "second");
  EXPECT_EQ(qcow2->snapshots()[1].id, "2");
  EXPECT_TRUE(qcow2->snapshots()[0].has_disk_size);
  EXPECT_EQ(qcow2->snapshots()[0].disk_size, 4u << 20);
  std::vector<std::string> listed;
  for (const InfoField& field : ours->info()) {
    if (field.key == "snapshot") listed.push_back(field.value);
  }
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].rfind("id 1, tag first, vm size 0 B, date ", 0), 0u) << listed[0];
  EXPECT_EQ(listed[1].rfind("id 2, tag second, ", 0), 0u) << listed[1];
  // Clusters shared between the snapshots and the active state are counted once per L1 table.
  expect_clean_check(*ours);
}

TEST(FromQemu, BitmapsAreCountedThenDroppedWithTheirClustersOnFirstWrite) {
  CELLA_REQUIRE_QEMU();
  TempDir dir;
  const std::string image = dir.file("bitmap.qcow2");
  qemu_img("create -q -f qcow2 " + quote(image) + " 4M");
  qemu_img("bitmap --add " + quote(image) + " dirty0");
  qemu_io(image, {"write -P 7 0 1M"});
  {
    auto ours = open_read_only(image);
    ASSERT_TRUE(ours);
    expect_clean_check(*ours);
  }
  OpenOptions options;
  auto writable = open_image(image, options);
  ASSERT_TRUE(writable.ok()) << writable.error().message();
  auto* qcow2 = dynamic_cast<qcow2::Qcow2Image*>(writable->get());
  EXPECT_EQ(qcow2->header().autoclear_features, 1u);  // nothing written yet: bitmaps still valid
  std::vector<uint8_t> data(4096, 9);
  ASSERT_TRUE((*writable)->write(0, data).ok());
  EXPECT_EQ(qcow2->header().autoclear_features, 0u);
  EXPECT_FALSE(qcow2->header().bitmaps.has_value());
  expect_clean_check(**writable);
  writable->reset();
  auto check = run_command("qemu-img check " + quote(image));
  EXPECT_EQ(check.exit_code, 0) << check.output;
}

}  // namespace
}  // namespace cella::block
