// qcow2 reads and writes against an in-memory model: random operations over several versions,
// cluster sizes and cache sizes, then a reopen and a clean check.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "qcow2_test_support.h"

namespace cella::block::qcow2::testing {
namespace {

struct Variant {
  const char* name;
  std::map<std::string, std::string> options;
  uint64_t size;
  Tuning tuning;
  bool backing = false;  // over a backing file (qcow2 v3, 4 KiB clusters) of random content
};

class Qcow2RandomOps : public ::testing::TestWithParam<Variant> {};

TEST_P(Qcow2RandomOps, MatchesModelAcrossReopenAndChecksClean) {
  const Variant& v = GetParam();
  TempDir dir;
  const std::string path = dir.file("disk.qcow2");
  std::vector<uint8_t> model(v.size, 0);
  std::mt19937_64 rng(42);
  if (v.backing) {
    create_qcow2(dir.file("base.qcow2"), v.size, {{"cluster_size", "4k"}});
    auto base = open_rw(dir.file("base.qcow2"));
    model = random_bytes(rng, v.size);
    ASSERT_OK(base->write(0, model));
    base.reset();
    create_qcow2(path, v.size, v.options, "base.qcow2");
  } else {
    create_qcow2(path, v.size, v.options);
  }
  {
    auto image = open_tuned(path, v.tuning);
    ASSERT_TRUE(image);
    const uint64_t cs = image->cluster_size();
    for (int op = 0; op < 400; ++op) {
      const int kind = static_cast<int>(rng() % 10);
      // Lengths from one byte to a few clusters, offsets anywhere.
      const uint64_t length = 1 + rng() % std::min<uint64_t>(v.size / 4, cs * 3 + 17);
      const uint64_t offset = rng() % (v.size - length + 1);
      if (kind < 5) {
        auto data = random_bytes(rng, length);
        ASSERT_OK(image->write(offset, data));
        std::copy(data.begin(), data.end(), model.begin() + offset);
      } else if (kind < 7) {
        std::vector<uint8_t> out(length);
        ASSERT_OK(image->read(offset, out));
        ASSERT_TRUE(std::equal(out.begin(), out.end(), model.begin() + offset))
            << "read mismatch at op " << op << " offset " << offset << " length " << length;
      } else if (kind == 7) {
        ASSERT_OK(image->write_zeroes(offset, length, rng() % 2 == 0));
        std::fill(model.begin() + offset, model.begin() + offset + length, 0);
      } else if (kind == 8 && (!v.backing || v.options.count("compat") == 0)) {
        // Discarded whole clusters read as zeros (version 3 writes zero clusters over a backing
        // file); partial clusters are kept.
        ASSERT_OK(image->discard(offset, length));
        const uint64_t first = (offset + cs - 1) / cs * cs;
        const uint64_t end = offset + length == v.size ? v.size : (offset + length) / cs * cs;
        if (end > first) std::fill(model.begin() + first, model.begin() + end, 0);
      } else {
        ASSERT_OK(image->flush());
      }
    }
    EXPECT_EQ(read_all(*image), model);
    expect_clean(*image);
  }
  auto reopened = open_rw(path, true);
  ASSERT_TRUE(reopened);
  EXPECT_EQ(read_all(*reopened), model);
  expect_clean(*reopened);
}

INSTANTIATE_TEST_SUITE_P(
    Variants, Qcow2RandomOps,
    ::testing::Values(
        Variant{"v3_64k", {}, 3 << 20, {}}, Variant{"v2_64k", {{"compat", "0.10"}}, 3 << 20, {}},
        Variant{"v3_4k_odd_size", {{"cluster_size", "4096"}}, (2 << 20) + 1536, {}},
        Variant{"v2_4k", {{"compat", "0.10"}, {"cluster_size", "4k"}}, 2 << 20, {}},
        // 512-byte clusters: many L2 tables and refcount blocks, with tiny caches that evict.
        Variant{"v3_512_tiny_caches", {{"cluster_size", "512"}}, 1 << 20, {2048, 2048}},
        Variant{
            "v3_refcount_bits_1", {{"cluster_size", "4k"}, {"refcount_bits", "1"}}, 1 << 20, {}},
        Variant{
            "v3_refcount_bits_64", {{"cluster_size", "4k"}, {"refcount_bits", "64"}}, 1 << 20, {}},
        Variant{"v3_lazy_refcounts", {{"lazy_refcounts", "on"}}, 2 << 20, {}},
        Variant{"v3_backing", {{"cluster_size", "16k"}}, 2 << 20, {}, true},
        Variant{"v2_backing", {{"compat", "0.10"}}, 2 << 20, {}, true},
        // Extended L2 entries: 32 subclusters per cluster, allocated and zeroed one by one.
        Variant{"v3_extended_l2", {{"extended_l2", "on"}}, 3 << 20, {}},
        Variant{"v3_extended_l2_16k_backing",
                {{"extended_l2", "on"}, {"cluster_size", "16k"}},
                2 << 20,
                {8 * 16384, 8 * 16384},
                true}),
    [](const ::testing::TestParamInfo<Variant>& param) { return std::string(param.param.name); });

TEST(Qcow2Io, NewImageReadsZerosAndMapsUnallocated) {
  TempDir dir;
  create_qcow2(dir.file("a.qcow2"), 5 << 20);
  auto image = open_rw(dir.file("a.qcow2"));
  ASSERT_TRUE(image);
  EXPECT_EQ(image->size(), 5u << 20);
  EXPECT_EQ(image->format_name(), "qcow2");
  auto data = read_all(*image);
  EXPECT_TRUE(std::all_of(data.begin(), data.end(), [](uint8_t b) { return b == 0; }));
  auto map = image->map(0, image->size());
  ASSERT_OK(map);
  ASSERT_EQ(map->size(), 1u);
  EXPECT_EQ((*map)[0].kind, ExtentKind::kUnallocated);
  EXPECT_EQ((*map)[0].length, 5u << 20);
  expect_clean(*image);
}

TEST(Qcow2Io, SizesRoundUpToSectorsAtCreateAndResizeRefusesPartialSectors) {
  TempDir dir;
  create_qcow2(dir.file("a.qcow2"), 1000);
  auto image = open_rw(dir.file("a.qcow2"));
  ASSERT_TRUE(image);
  EXPECT_EQ(image->size(), 1024u);
  auto refused = image->resize(5000);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("multiple of 512"), std::string::npos);
  ASSERT_OK(image->resize(5120));
  EXPECT_EQ(image->size(), 5120u);
}

TEST(Qcow2Io, OutOfRangeRequestsAreErrors) {
  TempDir dir;
  create_qcow2(dir.file("a.qcow2"), 1 << 20);
  auto image = open_rw(dir.file("a.qcow2"));
  ASSERT_TRUE(image);
  std::vector<uint8_t> buffer(16);
  EXPECT_FALSE(image->read((1 << 20) - 8, buffer).ok());
  EXPECT_FALSE(image->write(1 << 20, buffer).ok());
  EXPECT_FALSE(image->write_zeroes(UINT64_MAX - 4, 8, true).ok());
}

TEST(Qcow2Io, ReadOnlyImageRefusesWrites) {
  TempDir dir;
  create_qcow2(dir.file("a.qcow2"), 1 << 20);
  auto image = open_rw(dir.file("a.qcow2"), true);
  ASSERT_TRUE(image);
  std::vector<uint8_t> buffer(512, 1);
  auto result = image->write(0, buffer);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message().find("read-only"), std::string::npos);
}

TEST(Qcow2Io, SecondWriterIsRefusedByTheLock) {
  TempDir dir;
  create_qcow2(dir.file("a.qcow2"), 1 << 20);
  auto first = open_rw(dir.file("a.qcow2"));
  ASSERT_TRUE(first);
  OpenOptions options;
  auto second = open_image(dir.file("a.qcow2"), options);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message().find("in use"), std::string::npos);
}

TEST(Qcow2Io, RefcountTableGrowsForLargeFilesWithSmallClusters) {
  // 512-byte clusters with 16-bit refcounts: one refcount block covers 128 KiB, and the initial
  // one-cluster table (64 blocks) covers 8 MiB; writing 12 MiB forces the table to move.
  TempDir dir;
  const std::string path = dir.file("a.qcow2");
  create_qcow2(path, 12 << 20, {{"cluster_size", "512"}});
  std::mt19937_64 rng(7);
  auto data = random_bytes(rng, 12 << 20);
  {
    auto image = open_tuned(path, Tuning{64 << 10, 16 << 10});
    ASSERT_TRUE(image);
    const uint64_t table_before = image->header().refcount_table_offset;
    for (uint64_t off = 0; off < data.size(); off += 256 << 10) {
      ASSERT_OK(image->write(off, std::span<const uint8_t>(data).subspan(off, 256 << 10)));
    }
    ASSERT_OK(image->flush());
    EXPECT_EQ(read_all(*image), data);
    expect_clean(*image);
    EXPECT_NE(image->header().refcount_table_offset, table_before);
  }
  auto image = open_rw(path, true);
  ASSERT_TRUE(image);
  auto* qcow2 = dynamic_cast<Qcow2Image*>(image.get());
  ASSERT_NE(qcow2, nullptr);
  EXPECT_GT(qcow2->header().refcount_table_clusters, 1u);
  EXPECT_EQ(read_all(*image), data);
  expect_clean(*image);
}

TEST(Qcow2Io, SmallL2CacheStillServesWholeDisk) {
  TempDir dir;
  const std::string path = dir.file("a.qcow2");
  create_qcow2(path, 16 << 20, {{"cluster_size", "4k"}});  // 32 L2 tables of 512 entries
  std::mt19937_64 rng(9);
  auto data = random_bytes(rng, 16 << 20);
  auto image = open_tuned(path, Tuning{4 * 4096, 4 * 4096});
  ASSERT_TRUE(image);
  // Interleave far-apart writes so the 4-table cache keeps evicting dirty tables.
  for (uint64_t i = 0; i < 64; ++i) {
    const uint64_t off = ((i * 37) % 64) * (256 << 10);
    ASSERT_OK(image->write(off, std::span<const uint8_t>(data).subspan(off, 256 << 10)));
  }
  EXPECT_LE(image->l2_cache().size(), 4u);
  EXPECT_GT(image->l2_cache().misses(), 32u);
  EXPECT_EQ(read_all(*image), data);
  expect_clean(*image);
}

}  // namespace
}  // namespace cella::block::qcow2::testing
