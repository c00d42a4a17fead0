// Images written by Cella, verified by qemu: `qemu-img check` finds them clean, `qemu-img
// compare` finds the expected content, `qemu-img map` and `qemu-img info` agree with Cella.
#include <gtest/gtest.h>

#include <random>

#include "block/format_registry.h"
#include "block/qcow2/qcow2_image.h"
#include "tests/support/qemu_tools.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_data.h"

namespace cella::block {
namespace {

using cella::testing::quote;
using cella::testing::random_bytes;
using cella::testing::run_command;
using cella::testing::TempDir;

#define ASSERT_OK(expr)                                                                \
  do {                                                                                 \
    const auto& cella_result = (expr);                                                 \
    ASSERT_TRUE(cella_result.ok()) << #expr << ": " << cella_result.error().message(); \
  } while (0)

void create(const std::string& path, uint64_t size, std::map<std::string, std::string> options,
            const std::string& backing = "") {
  CreateOptions create;
  create.path = path;
  create.size = size;
  create.backing_file = backing;
  create.options = std::move(options);
  ASSERT_OK(create_image("qcow2", create));
}

std::unique_ptr<BlockImage> open_writable(const std::string& path) {
  OpenOptions options;
  auto image = open_image(path, options);
  EXPECT_TRUE(image.ok()) << (image.ok() ? "" : image.error().message());
  return image.ok() ? std::move(image).value() : nullptr;
}

// qemu-img check: exit 0, no corruption and no leak.
void expect_qemu_check_clean(const std::string& image) {
  auto result = run_command("qemu-img check --output json " + quote(image));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto json = nlohmann::json::parse(result.output);
  EXPECT_EQ(json.value("check-errors", 0), 0) << result.output;
  EXPECT_EQ(json.value("corruptions", 0), 0) << result.output;
  EXPECT_EQ(json.value("leaks", 0), 0) << result.output;
}

// qemu-img compare against a raw file holding the expected content.
void expect_qemu_content(const TempDir& dir, const std::string& image,
                         const std::vector<uint8_t>& expected) {
  const std::string raw = dir.file("expected.raw");
  testing::write_whole_file(raw, expected);
  auto result = run_command("qemu-img compare -f qcow2 -F raw " + quote(image) + " " + quote(raw));
  EXPECT_EQ(result.exit_code, 0) << result.output;
}

void expect_same_map_as_qemu(const std::string& path) {
  const auto qemu = testing::qemu_map(path, "qcow2");
  ASSERT_TRUE(qemu.has_value());
  OpenOptions options;
  options.read_only = true;
  auto image = open_image(path, options);
  ASSERT_OK(image);
  auto ours = (*image)->map(0, (*image)->size());
  ASSERT_OK(ours);
  const auto cella = testing::as_qemu_map(*ours);
  EXPECT_EQ(cella, *qemu) << "cella:\n"
                          << testing::describe(cella, *qemu) << "qemu:\n"
                          << testing::describe(*qemu, cella);
}

nlohmann::json qemu_info(const std::string& image) {
  auto result = run_command("qemu-img info --output json " + quote(image));
  EXPECT_EQ(result.exit_code, 0) << result.output;
  return nlohmann::json::parse(result.output);
}

// Random writes, zeroes, discards, compressed writes and flushes, mirrored in `model`.
void random_ops(BlockImage& image, std::vector<uint8_t>& model, std::mt19937_64& rng, int count,
                bool has_backing) {
  const uint64_t size = image.size();
  const uint64_t cs = image.cluster_size();
  for (int op = 0; op < count; ++op) {
    const int kind = static_cast<int>(rng() % 10);
    const uint64_t length = 1 + rng() % std::min<uint64_t>(size / 4, 3 * cs + 999);
    const uint64_t offset = rng() % (size - length + 1);
    if (kind < 5) {
      auto data = random_bytes(rng, length);
      ASSERT_OK(image.write(offset, data));
      std::copy(data.begin(), data.end(), model.begin() + offset);
    } else if (kind == 5) {
      ASSERT_OK(image.write_zeroes(offset, length, rng() % 2 == 0));
      std::fill(model.begin() + offset, model.begin() + offset + length, 0);
    } else if (kind == 6 && !has_backing) {
      ASSERT_OK(image.discard(offset, length));
      const uint64_t first = (offset + cs - 1) / cs * cs;
      const uint64_t end = offset + length == size ? size : (offset + length) / cs * cs;
      if (end > first) std::fill(model.begin() + first, model.begin() + end, 0);
    } else if (kind == 7) {
      // A compressible cluster, written compressed.
      const uint64_t cluster = (rng() % ((size + cs - 1) / cs)) * cs;
      const uint64_t n = std::min(cs, size - cluster);
      std::vector<uint8_t> data(n);
      const uint8_t seed = static_cast<uint8_t>(rng());
      for (uint64_t i = 0; i < n; ++i) data[i] = static_cast<uint8_t>(seed + i / 61);
      ASSERT_OK(image.write_compressed(cluster, data));
      std::copy(data.begin(), data.end(), model.begin() + cluster);
    } else if (kind == 8) {
      ASSERT_OK(image.flush());
    }
  }
}

struct Variant {
  const char* name;
  std::map<std::string, std::string> options;
  uint64_t size;
  // qemu-img info's format-specific fields expected.
  const char* compat;
  int refcount_bits;
  const char* compression;
  int ops = 300;
};

class ToQemu : public ::testing::TestWithParam<Variant> {};

TEST_P(ToQemu, QemuChecksComparesMapsAndDescribesCellaImages) {
  CELLA_REQUIRE_QEMU();
  const Variant& v = GetParam();
  TempDir dir;
  const std::string path = dir.file("cella.qcow2");
  create(path, v.size, v.options);
  std::vector<uint8_t> model(v.size, 0);
  std::mt19937_64 rng(1234);
  {
    auto image = open_writable(path);
    ASSERT_TRUE(image);
    random_ops(*image, model, rng, v.ops, false);
  }
  expect_qemu_check_clean(path);
  expect_qemu_content(dir, path, model);
  expect_same_map_as_qemu(path);
  auto info = qemu_info(path);
  EXPECT_EQ(info["virtual-size"], v.size);
  const auto& data = info["format-specific"]["data"];
  EXPECT_EQ(data["compat"], v.compat);
  EXPECT_EQ(data["refcount-bits"], v.refcount_bits);
  if (std::string(v.compat) == "1.1") {
    EXPECT_EQ(data["compression-type"], v.compression);
  }
  EXPECT_EQ(info["dirty-flag"], false);
}

INSTANTIATE_TEST_SUITE_P(
    Variants, ToQemu,
    ::testing::Values(
        Variant{"v3_64k", {}, 8 << 20, "1.1", 16, "zlib"},
        Variant{"v2_64k", {{"compat", "0.10"}}, 8 << 20, "0.10", 16, "zlib"},
        Variant{"v3_512", {{"cluster_size", "512"}}, 2 << 20, "1.1", 16, "zlib"},
        Variant{"v2_4k_odd_size",
                {{"compat", "0.10"}, {"cluster_size", "4k"}},
                (3 << 20) + 3584,
                "0.10",
                16,
                "zlib"},
        Variant{
            "v3_2M_odd_size", {{"cluster_size", "2M"}}, (9 << 20) + 1536, "1.1", 16, "zlib", 60},
        Variant{"v3_zstd", {{"compression_type", "zstd"}}, 8 << 20, "1.1", 16, "zstd"},
        Variant{"v3_extended_l2", {{"extended_l2", "on"}}, 8 << 20, "1.1", 16, "zlib"},
        Variant{"v3_refcount_bits_1",
                {{"refcount_bits", "1"}, {"cluster_size", "4k"}},
                4 << 20,
                "1.1",
                1,
                "zlib"},
        Variant{"v3_refcount_bits_8", {{"refcount_bits", "8"}}, 4 << 20, "1.1", 8, "zlib"},
        Variant{"v3_lazy_refcounts", {{"lazy_refcounts", "on"}}, 4 << 20, "1.1", 16, "zlib"},
        Variant{
            "v3_prealloc_metadata", {{"preallocation", "metadata"}}, 4 << 20, "1.1", 16, "zlib"},
        Variant{"v3_prealloc_falloc", {{"preallocation", "falloc"}}, 4 << 20, "1.1", 16, "zlib"},
        Variant{"v2_prealloc_full",
                {{"preallocation", "full"}, {"compat", "0.10"}},
                4 << 20,
                "0.10",
                16,
                "zlib"}),
    [](const ::testing::TestParamInfo<Variant>& param) { return std::string(param.param.name); });

TEST(ToQemu, BackingChainWrittenByCellaComparesEqual) {
  CELLA_REQUIRE_QEMU();
  TempDir dir;
  const uint64_t size = 6 << 20;
  std::mt19937_64 rng(99);
  std::vector<uint8_t> model(size, 0);
  create(dir.file("base.qcow2"), size - (1 << 20), {{"compat", "0.10"}, {"cluster_size", "4k"}});
  {
    auto base = open_writable(dir.file("base.qcow2"));
    ASSERT_TRUE(base);
    std::vector<uint8_t> base_model(base->size(), 0);
    random_ops(*base, base_model, rng, 100, false);
    std::copy(base_model.begin(), base_model.end(), model.begin());
  }
  // Relative backing names, as qemu-img create -b writes them.
  create(dir.file("mid.qcow2"), size, {{"cluster_size", "512"}}, "base.qcow2");
  create(dir.file("top.qcow2"), 0, {{"cluster_size", "64k"}, {"extended_l2", "on"}}, "mid.qcow2");
  for (const char* layer : {"mid.qcow2", "top.qcow2"}) {
    auto image = open_writable(dir.file(layer));
    ASSERT_TRUE(image);
    ASSERT_EQ(image->size(), size);
    random_ops(*image, model, rng, 150, true);
  }
  for (const char* layer : {"base.qcow2", "mid.qcow2", "top.qcow2"}) {
    expect_qemu_check_clean(dir.file(layer));
  }
  expect_qemu_content(dir, dir.file("top.qcow2"), model);
  expect_same_map_as_qemu(dir.file("top.qcow2"));
  auto info = qemu_info(dir.file("top.qcow2"));
  EXPECT_EQ(info["backing-filename"], "mid.qcow2");
  EXPECT_EQ(info["backing-filename-format"], "qcow2");
}

TEST(ToQemu, WritesKeepQemuSnapshotsIntact) {
  CELLA_REQUIRE_QEMU();
  TempDir dir;
  const std::string path = dir.file("snap.qcow2");
  ASSERT_EQ(run_command("qemu-img create -q -f qcow2 -o cluster_size=4k " + quote(path) + " 4M")
                .exit_code,
            0);
  ASSERT_EQ(run_command("qemu-io -c 'write -P 0x5a 0 3M' " + quote(path)).exit_code, 0);
  ASSERT_EQ(run_command("qemu-img snapshot -c before " + quote(path)).exit_code, 0);
  std::vector<uint8_t> snapshot_content(4 << 20, 0);
  std::fill(snapshot_content.begin(), snapshot_content.begin() + (3 << 20), 0x5a);
  std::vector<uint8_t> model = snapshot_content;
  std::mt19937_64 rng(5);
  {
    auto image = open_writable(path);
    ASSERT_TRUE(image);
    random_ops(*image, model, rng, 200, false);
  }
  expect_qemu_check_clean(path);
  expect_qemu_content(dir, path, model);
  // Reverting to the snapshot shows the content it had: shared clusters were copied on write.
  ASSERT_EQ(run_command("qemu-img snapshot -a before " + quote(path)).exit_code, 0);
  expect_qemu_content(dir, path, snapshot_content);
  expect_qemu_check_clean(path);
}

TEST(ToQemu, OverwritingQemuCompressedClustersStaysConsistent) {
  CELLA_REQUIRE_QEMU();
  TempDir dir;
  std::vector<uint8_t> model(5 << 20);
  for (size_t i = 0; i < model.size(); ++i) model[i] = static_cast<uint8_t>(i / 4099);
  const std::string raw = dir.file("source.raw");
  testing::write_whole_file(raw, model);
  const std::string path = dir.file("compressed.qcow2");
  for (const char* type : {"zlib", "zstd"}) {
    ASSERT_EQ(run_command(std::string("qemu-img convert -c -O qcow2 -o compression_type=") + type +
                          " " + quote(raw) + " " + quote(path))
                  .exit_code,
              0);
    std::vector<uint8_t> expected = model;
    std::mt19937_64 rng(17);
    {
      auto image = open_writable(path);
      ASSERT_TRUE(image);
      random_ops(*image, expected, rng, 150, false);
    }
    expect_qemu_check_clean(path);
    expect_qemu_content(dir, path, expected);
  }
}

TEST(ToQemu, ResizedImagesAreConsistent) {
  CELLA_REQUIRE_QEMU();
  TempDir dir;
  const std::string path = dir.file("resize.qcow2");
  // 512-byte clusters: each L1 entry maps 32 KiB, so growing to 40 MiB grows the L1 table.
  create(path, 1 << 20, {{"cluster_size", "512"}});
  std::mt19937_64 rng(3);
  std::vector<uint8_t> model(1 << 20, 0);
  {
    auto image = open_writable(path);
    ASSERT_TRUE(image);
    random_ops(*image, model, rng, 100, false);
    ASSERT_OK(image->resize(40 << 20));
    model.resize(40 << 20, 0);
    random_ops(*image, model, rng, 100, false);
    // Shrinking over data needs the caller's consent.
    EXPECT_FALSE(image->resize(3 << 20).ok());
    ASSERT_OK(image->resize_with_data_loss((3 << 20) + 512));
    model.resize((3 << 20) + 512);
    ASSERT_OK(image->resize(5 << 20));  // the regrown area reads as zeros
    model.resize(5 << 20, 0);
  }
  expect_qemu_check_clean(path);
  expect_qemu_content(dir, path, model);
  EXPECT_EQ(qemu_info(path)["virtual-size"], 5u << 20);
}

}  // namespace
}  // namespace cella::block
