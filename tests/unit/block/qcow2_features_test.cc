// qcow2 features one by one: backing chains, compressed clusters, zero clusters and discard,
// resize, preallocation, create options.
#include <gtest/gtest.h>

#include <algorithm>

#include "qcow2_test_support.h"

namespace cella::block::qcow2::testing {
namespace {

std::vector<Extent> map_all(BlockImage& image) {
  auto map = image.map(0, image.size());
  EXPECT_TRUE(map.ok()) << (map.ok() ? "" : map.error().message());
  return map.ok() ? *map : std::vector<Extent>();
}

// The extent covering a guest offset.
Extent extent_at(BlockImage& image, uint64_t offset) {
  for (const Extent& e : map_all(image)) {
    if (offset >= e.offset && offset < e.offset + e.length) return e;
  }
  ADD_FAILURE() << "no extent at " << offset;
  return {};
}

std::string create_error(std::map<std::string, std::string> options) {
  TempDir dir;
  CreateOptions create;
  create.path = dir.file("x.qcow2");
  create.size = 1 << 20;
  create.options = std::move(options);
  auto result = create_image("qcow2", create);
  return result.ok() ? "(created)" : result.error().message();
}

TEST(Qcow2Backing, PartialWritesCopyTheRestOfTheClusterFromTheChain) {
  TempDir dir;
  std::mt19937_64 rng(4);
  const auto base_data = random_bytes(rng, 2 << 20);
  create_qcow2(dir.file("base.qcow2"), 2 << 20, {{"cluster_size", "4k"}});
  {
    auto base = open_rw(dir.file("base.qcow2"));
    ASSERT_OK(base->write(0, base_data));
  }
  create_qcow2(dir.file("mid.qcow2"), 0, {{"cluster_size", "512"}}, "base.qcow2");
  create_qcow2(dir.file("top.qcow2"), 0, {}, "mid.qcow2");
  std::vector<uint8_t> expected = base_data;
  {
    auto mid = open_rw(dir.file("mid.qcow2"));
    ASSERT_EQ(mid->size(), 2u << 20);  // the size comes from the backing file
    std::vector<uint8_t> patch(700, 0x11);
    ASSERT_OK(mid->write(100000, patch));
    std::copy(patch.begin(), patch.end(), expected.begin() + 100000);
  }
  auto top = open_rw(dir.file("top.qcow2"));
  ASSERT_TRUE(top);
  std::vector<uint8_t> patch(10, 0x22);
  ASSERT_OK(top->write(100500, patch));  // inside a 64 KiB top cluster over both layers
  std::copy(patch.begin(), patch.end(), expected.begin() + 100500);
  EXPECT_TRUE(read_all(*top) == expected);
  EXPECT_EQ(extent_at(*top, 100500).depth, 0);
  EXPECT_EQ(extent_at(*top, 1 << 20).depth, 2);
  expect_clean(*top);
}

TEST(Qcow2Backing, WritesThatNeedAnUnopenedBackingFileAreRefused) {
  TempDir dir;
  create_qcow2(dir.file("base.qcow2"), 1 << 20);
  std::vector<uint8_t> base_data(1 << 20, 0x5a);
  ASSERT_OK(open_rw(dir.file("base.qcow2"))->write(0, base_data));
  create_qcow2(dir.file("top.qcow2"), 0, {}, "base.qcow2");
  {
    OpenOptions alone;
    alone.open_backing = false;
    auto opened = open_image(dir.file("top.qcow2"), alone);
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    auto& top = *opened.value();
    // Copying the rest of the cluster from the chain is impossible: an error, not zeros.
    std::vector<uint8_t> patch(4096, 0x11);
    auto written = top.write(8192, patch);
    ASSERT_FALSE(written.ok());
    EXPECT_NE(written.error().message().find("backing file 'base.qcow2', which was not opened"),
              std::string::npos)
        << written.error().message();
    std::vector<uint8_t> out(4096);
    EXPECT_FALSE(top.read(0, out).ok());
    // Whole clusters need nothing from the chain.
    std::vector<uint8_t> cluster(65536, 0x22);
    ASSERT_OK(top.write(65536, cluster));
    std::copy(cluster.begin(), cluster.end(), base_data.begin() + 65536);
  }
  auto top = open_rw(dir.file("top.qcow2"), true);
  EXPECT_TRUE(read_all(*top) == base_data);
  expect_clean(*top);
}

TEST(Qcow2Backing, LoopsAndMissingFilesAreClearErrors) {
  TempDir dir;
  create_qcow2(dir.file("a.qcow2"), 1 << 20);
  create_qcow2(dir.file("b.qcow2"), 0, {}, "a.qcow2");
  {
    // Point a at b: a -> b -> a.
    Header h = [&] {
      auto image = open_tuned(dir.file("a.qcow2"), {}, true);
      return image->header();
    }();
    auto file = HostFile::open(dir.file("a.qcow2"), Access::kReadWrite);
    ASSERT_TRUE(file.ok());
    h.backing_file = "b.qcow2";
    h.backing_format = "qcow2";
    auto bytes = serialize_header(h);
    ASSERT_TRUE(bytes.ok());
    ASSERT_OK(file->write(0, *bytes));
  }
  OpenOptions options;
  auto looped = open_image(dir.file("b.qcow2"), options);
  ASSERT_FALSE(looped.ok());
  EXPECT_NE(looped.error().message().find("loops back"), std::string::npos)
      << looped.error().message();

  create_qcow2(dir.file("c.qcow2"), 1 << 20);
  std::filesystem::rename(dir.file("c.qcow2"), dir.file("gone.qcow2"));
  create_qcow2(dir.file("c.qcow2"), 1 << 20);
  create_qcow2(dir.file("d.qcow2"), 0, {}, "c.qcow2");
  std::filesystem::remove(dir.file("c.qcow2"));
  auto missing = open_image(dir.file("d.qcow2"), options);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("backing file of " + dir.file("d.qcow2") + ": " +
                                           dir.file("c.qcow2") + ": No such file or directory"),
            std::string::npos)
      << missing.error().message();
  options.open_backing = false;  // `rebase -u` style: the image alone still opens
  EXPECT_TRUE(open_image(dir.file("d.qcow2"), options).ok());
}

TEST(Qcow2Backing, SetBackingAndMakeEmpty) {
  TempDir dir;
  for (const char* name : {"one.qcow2", "two.qcow2"}) {
    create_qcow2(dir.file(name), 1 << 20);
    auto image = open_rw(dir.file(name));
    std::vector<uint8_t> fill(1 << 20, name[0]);
    ASSERT_OK(image->write(0, fill));
  }
  create_qcow2(dir.file("top.qcow2"), 0, {{"compat", "0.10"}}, "one.qcow2");
  std::vector<uint8_t> patch(4096, 0x33);
  {
    auto top = open_rw(dir.file("top.qcow2"));
    ASSERT_OK(top->write(8192, patch));
    auto* qcow2 = dynamic_cast<Qcow2Image*>(top.get());
    ASSERT_OK(qcow2->set_backing("two.qcow2", "qcow2"));
    EXPECT_EQ(qcow2->backing_file(), "two.qcow2");
  }
  auto top = open_rw(dir.file("top.qcow2"));
  auto data = read_all(*top);
  EXPECT_EQ(data[0], 'o');      // copied into top's first cluster by the write
  EXPECT_EQ(data[65536], 't');  // through the new backing file
  EXPECT_EQ(data[8192], 0x33);
  auto* qcow2 = dynamic_cast<Qcow2Image*>(top.get());
  ASSERT_OK(qcow2->make_empty());
  data = read_all(*top);
  EXPECT_TRUE(std::all_of(data.begin(), data.end(), [](uint8_t b) { return b == 't'; }));
  EXPECT_EQ(extent_at(*top, 0).depth, 1);
  ASSERT_OK(qcow2->set_backing("", ""));
  expect_clean(*top);
  top.reset();
  auto alone = open_rw(dir.file("top.qcow2"), true);
  EXPECT_EQ(alone->backing(), nullptr);
  data = read_all(*alone);
  EXPECT_TRUE(std::all_of(data.begin(), data.end(), [](uint8_t b) { return b == 0; }));
}

TEST(Qcow2Backing, CreateRefusesAMissingBackingFileAndItself) {
  TempDir dir;
  CreateOptions create;
  create.path = dir.file("x.qcow2");
  create.size = 1 << 20;
  create.backing_file = "nope.qcow2";
  auto missing = create_image("qcow2", create);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("nope.qcow2"), std::string::npos);
  create_qcow2(dir.file("x.qcow2"), 1 << 20);
  create.backing_file = "x.qcow2";
  auto self = create_image("qcow2", create);
  ASSERT_FALSE(self.ok());
  EXPECT_NE(self.error().message().find("the image being created"), std::string::npos);
}

class Qcow2Compressed : public ::testing::TestWithParam<const char*> {};

TEST_P(Qcow2Compressed, CompressedClustersReadBackAndRewrite) {
  TempDir dir;
  const std::string path = dir.file("c.qcow2");
  create_qcow2(path, (1 << 20) + 4096, {{"compression_type", GetParam()}, {"cluster_size", "64k"}});
  auto image = open_rw(path);
  ASSERT_TRUE(image);
  std::vector<uint8_t> expected(image->size(), 0);
  for (uint64_t c = 0; c < image->size(); c += 65536) {
    const uint64_t n = std::min<uint64_t>(65536, image->size() - c);
    std::vector<uint8_t> cluster(n);
    for (uint64_t i = 0; i < n; ++i) cluster[i] = static_cast<uint8_t>(c / 65536 + i / 100);
    ASSERT_OK(image->write_compressed(c, cluster));  // the last cluster is short
    std::copy(cluster.begin(), cluster.end(), expected.begin() + c);
  }
  EXPECT_TRUE(read_all(*image) == expected);
  Extent first = extent_at(*image, 0);
  EXPECT_EQ(first.kind, ExtentKind::kData);
  EXPECT_EQ(first.host_offset, -1);  // compressed: no plain host offset
  // Compressed clusters pack into shared host clusters: the file holds far less than the 17
  // clusters written (header and tables take 4).
  ASSERT_OK(image->flush());
  EXPECT_LT(disk_usage(path), 8u * 65536);
  // A partial overwrite decompresses the rest of the cluster into a new one.
  std::vector<uint8_t> patch(1000, 0xab);
  ASSERT_OK(image->write(70000, patch));
  std::copy(patch.begin(), patch.end(), expected.begin() + 70000);
  EXPECT_TRUE(read_all(*image) == expected);
  expect_clean(*image);
  image.reset();
  auto reopened = open_rw(path, true);
  EXPECT_TRUE(read_all(*reopened) == expected);
  expect_clean(*reopened);
}

INSTANTIATE_TEST_SUITE_P(Types, Qcow2Compressed, ::testing::Values("zlib", "zstd"));

TEST(Qcow2CompressedWrites, IncompressibleDataIsStoredPlainAndArgumentsAreChecked) {
  TempDir dir;
  create_qcow2(dir.file("c.qcow2"), 1 << 20);
  auto image = open_rw(dir.file("c.qcow2"));
  std::mt19937_64 rng(8);
  auto noise = random_bytes(rng, 65536);
  ASSERT_OK(image->write_compressed(0, noise));
  EXPECT_GE(extent_at(*image, 0).host_offset, 0);  // stored as a normal cluster
  std::vector<uint8_t> out(65536);
  ASSERT_OK(image->read(0, out));
  EXPECT_EQ(out, noise);
  EXPECT_FALSE(image->write_compressed(512, noise).ok());                           // unaligned
  EXPECT_FALSE(image->write_compressed(65536, std::span(noise).first(1000)).ok());  // short
}

TEST(Qcow2Zero, Version3ZeroClustersWithAndWithoutUnmap) {
  TempDir dir;
  const std::string path = dir.file("z.qcow2");
  create_qcow2(path, 4 << 20);
  auto image = open_rw(path);
  std::vector<uint8_t> data(4 << 20, 0x5c);
  ASSERT_OK(image->write(0, data));
  ASSERT_OK(image->flush());
  ASSERT_OK(image->write_zeroes(0, 1 << 20, false));           // keeps the clusters, reads zeros
  ASSERT_OK(image->write_zeroes(1 << 20, 1 << 20, true));      // frees them
  ASSERT_OK(image->write_zeroes((2 << 20) + 100, 200, true));  // partial: real zeros
  std::fill(data.begin(), data.begin() + (2 << 20), 0);
  std::fill(data.begin() + (2 << 20) + 100, data.begin() + (2 << 20) + 300, 0);
  EXPECT_TRUE(read_all(*image) == data);
  Extent kept = extent_at(*image, 0);
  EXPECT_EQ(kept.kind, ExtentKind::kZero);
  EXPECT_GE(kept.host_offset, 0);  // preallocated zeros
  Extent freed = extent_at(*image, 1 << 20);
  EXPECT_EQ(freed.kind, ExtentKind::kZero);
  EXPECT_EQ(freed.host_offset, -1);
  EXPECT_EQ(extent_at(*image, 2 << 20).kind, ExtentKind::kData);
  expect_clean(*image);
}

TEST(Qcow2Zero, FreedClustersAreHolesInTheHostFile) {
  TempDir dir;
  const std::string path = dir.file("z.qcow2");
  create_qcow2(path, 8 << 20);
  auto image = open_rw(path);
  std::vector<uint8_t> data(8 << 20, 0x5c);
  ASSERT_OK(image->write(0, data));
  ASSERT_OK(image->flush());
  const uint64_t full = disk_usage(path);
  ASSERT_OK(image->discard(0, 8 << 20));
  ASSERT_OK(image->flush());  // frees apply once the tables no longer reference the clusters
  EXPECT_LT(disk_usage(path) + (7 << 20), full);
  EXPECT_EQ(extent_at(*image, 0).kind, ExtentKind::kUnallocated);
  expect_clean(*image);
}

TEST(Qcow2Zero, Version2FallsBackToDeallocationOrRealZeros) {
  TempDir dir;
  create_qcow2(dir.file("base.qcow2"), 1 << 20, {{"compat", "0.10"}});
  {
    auto base = open_rw(dir.file("base.qcow2"));
    std::vector<uint8_t> ones(1 << 20, 1);
    ASSERT_OK(base->write(0, ones));
    // No backing: zeroes deallocate.
    ASSERT_OK(base->write_zeroes(0, 65536, true));
    EXPECT_EQ(extent_at(*base, 0).kind, ExtentKind::kUnallocated);
  }
  create_qcow2(dir.file("top.qcow2"), 0, {{"compat", "0.10"}}, "base.qcow2");
  auto top = open_rw(dir.file("top.qcow2"));
  // With a backing file, version 2 has no zero flag: zeros are written.
  ASSERT_OK(top->write_zeroes(65536, 65536, true));
  Extent e = extent_at(*top, 65536);
  EXPECT_EQ(e.kind, ExtentKind::kData);
  EXPECT_EQ(e.depth, 0);
  std::vector<uint8_t> out(65536);
  ASSERT_OK(top->read(65536, out));
  EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](uint8_t b) { return b == 0; }));
  // Discard reverts to the backing file (the format cannot say "zeros" here).
  ASSERT_OK(top->discard(65536, 65536));
  ASSERT_OK(top->read(65536, out));
  EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](uint8_t b) { return b == 1; }));
  expect_clean(*top);
}

TEST(Qcow2Zero, Version3DiscardOverABackingFileReadsZeros) {
  TempDir dir;
  create_qcow2(dir.file("base.qcow2"), 1 << 20);
  {
    auto base = open_rw(dir.file("base.qcow2"));
    std::vector<uint8_t> ones(1 << 20, 1);
    ASSERT_OK(base->write(0, ones));
  }
  create_qcow2(dir.file("top.qcow2"), 0, {}, "base.qcow2");
  auto top = open_rw(dir.file("top.qcow2"));
  ASSERT_OK(top->discard(0, 1 << 20));
  auto data = read_all(*top);
  EXPECT_TRUE(std::all_of(data.begin(), data.end(), [](uint8_t b) { return b == 0; }));
  EXPECT_EQ(extent_at(*top, 0).kind, ExtentKind::kZero);
}

TEST(Qcow2Resize, GrowShrinkAndTheirGuards) {
  TempDir dir;
  create_qcow2(dir.file("base.qcow2"), 8 << 20);
  {
    auto base = open_rw(dir.file("base.qcow2"));
    std::vector<uint8_t> ones(8 << 20, 1);
    ASSERT_OK(base->write(0, ones));
  }
  // A 2 MiB overlay on an 8 MiB base, with 512-byte clusters (each L1 entry maps 32 KiB).
  create_qcow2(dir.file("top.qcow2"), 2 << 20, {{"cluster_size", "512"}}, "base.qcow2");
  auto image = open_tuned(dir.file("top.qcow2"), {});
  ASSERT_TRUE(image);
  std::vector<uint8_t> data(1000, 7);
  ASSERT_OK(image->write((2 << 20) - 1000, data));
  const uint32_t l1_before = image->header().l1_size;
  ASSERT_OK(image->resize(6 << 20));
  EXPECT_GT(image->header().l1_size, l1_before);
  std::vector<uint8_t> grown(4 << 20);
  ASSERT_OK(image->read(2 << 20, grown));
  // The longer backing file does not show through the new area.
  EXPECT_TRUE(std::all_of(grown.begin(), grown.end(), [](uint8_t b) { return b == 0; }));
  // Shrinking over data is refused, over unallocated space allowed.
  ASSERT_OK(image->write((5 << 20), data));
  auto refused = image->resize(4 << 20);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("would discard data at guest offset 0x500000"),
            std::string::npos)
      << refused.error().message();
  ASSERT_OK(image->resize_with_data_loss(4 << 20));
  EXPECT_EQ(image->size(), 4u << 20);
  ASSERT_OK(image->resize(3 << 20));  // nothing allocated in [3, 4) MiB but zero clusters
  expect_clean(*image);
  image.reset();
  auto reopened = open_rw(dir.file("top.qcow2"), true);
  EXPECT_EQ(reopened->size(), 3u << 20);
  std::vector<uint8_t> tail(1000);
  ASSERT_OK(reopened->read((2 << 20) - 1000, tail));
  EXPECT_EQ(tail, data);
}

TEST(Qcow2Preallocation, ModesAllocateWhatTheyPromise) {
  TempDir dir;
  for (const char* mode : {"metadata", "falloc", "full"}) {
    SCOPED_TRACE(mode);
    const std::string path = dir.file(std::string(mode) + ".qcow2");
    create_qcow2(path, 4 << 20, {{"preallocation", mode}});
    auto image = open_rw(path);
    ASSERT_TRUE(image);
    auto map = map_all(*image);
    ASSERT_EQ(map.size(), 1u);
    EXPECT_EQ(map[0].kind, ExtentKind::kData);
    EXPECT_GE(map[0].host_offset, 0);
    auto data = read_all(*image);
    EXPECT_TRUE(std::all_of(data.begin(), data.end(), [](uint8_t b) { return b == 0; }));
    const uint64_t used = disk_usage(path);
    if (std::string(mode) == "metadata") {
      EXPECT_LT(used, 1u << 20);
    } else {
      EXPECT_GE(used, 4u << 20);
    }
    std::vector<uint8_t> ones(100000, 1);
    ASSERT_OK(image->write(12345, ones));  // in place, no allocation
    expect_clean(*image);
  }
}

TEST(Qcow2Create, OptionsAreValidatedByName) {
  EXPECT_NE(create_error({{"compat", "2.0"}}).find("compat '2.0'"), std::string::npos);
  EXPECT_NE(create_error({{"cluster_size", "3000"}}).find("cluster_size 3000"), std::string::npos);
  EXPECT_NE(create_error({{"cluster_size", "4M"}}).find("cluster_size"), std::string::npos);
  EXPECT_NE(create_error({{"refcount_bits", "3"}}).find("refcount_bits 3"), std::string::npos);
  EXPECT_NE(create_error({{"compat", "0.10"}, {"refcount_bits", "8"}}).find("refcount_bits=16"),
            std::string::npos);
  EXPECT_NE(create_error({{"compat", "0.10"}, {"compression_type", "zstd"}}).find("compat=1.1"),
            std::string::npos);
  EXPECT_NE(create_error({{"compat", "0.10"}, {"lazy_refcounts", "on"}}).find("compat=1.1"),
            std::string::npos);
  EXPECT_NE(create_error({{"compression_type", "lz4"}}).find("lz4"), std::string::npos);
  EXPECT_NE(create_error({{"preallocation", "some"}}).find("preallocation 'some'"),
            std::string::npos);
  EXPECT_NE(create_error({{"extended_l2", "on"}, {"cluster_size", "4k"}}).find("at least 16k"),
            std::string::npos);
  EXPECT_NE(create_error({{"extended_l2", "on"}, {"compat", "0.10"}}).find("compat=1.1"),
            std::string::npos);
  EXPECT_NE(create_error({{"encryption", "on"}}).find("does not support the option 'encryption'"),
            std::string::npos);
  EXPECT_EQ(create_error({{"cluster_size", "2M"}, {"refcount_bits", "64"}}), "(created)");
}

TEST(Qcow2Info, DescribesTheFormatLikeQemuImgInfo) {
  TempDir dir;
  create_qcow2(dir.file("base.qcow2"), 1 << 20);
  create_qcow2(dir.file("i.qcow2"), 0,
               {{"compression_type", "zstd"}, {"lazy_refcounts", "on"}, {"refcount_bits", "8"}},
               "base.qcow2");
  auto image = open_rw(dir.file("i.qcow2"), true);
  std::map<std::string, std::string> fields;
  for (const InfoField& f : image->info()) fields[f.key] = f.value;
  EXPECT_EQ(fields["compat"], "1.1");
  EXPECT_EQ(fields["compression type"], "zstd");
  EXPECT_EQ(fields["lazy refcounts"], "true");
  EXPECT_EQ(fields["refcount bits"], "8");
  EXPECT_EQ(fields["corrupt"], "false");
  EXPECT_EQ(fields["extended l2"], "false");
  EXPECT_EQ(image->cluster_size(), 65536u);
  auto* qcow2 = dynamic_cast<Qcow2Image*>(image.get());
  EXPECT_EQ(qcow2->backing_file(), "base.qcow2");
  EXPECT_EQ(qcow2->backing_format(), "qcow2");
  EXPECT_FALSE(qcow2->dirty());
  EXPECT_EQ(fields.count("snapshot"), 0u);
}

TEST(Qcow2Info, Version2HasNoVersion3Fields) {
  TempDir dir;
  create_qcow2(dir.file("v2.qcow2"), 1 << 20, {{"compat", "0.10"}});
  auto image = open_rw(dir.file("v2.qcow2"), false);
  std::map<std::string, std::string> fields;
  for (const InfoField& f : image->info()) fields[f.key] = f.value;
  EXPECT_EQ(fields["compat"], "0.10");
  EXPECT_EQ(fields["refcount bits"], "16");
  EXPECT_EQ(fields.count("compression type"), 0u);
  EXPECT_EQ(fields.count("lazy refcounts"), 0u);
}

}  // namespace
}  // namespace cella::block::qcow2::testing
