#include "block/ops/chain_map.h"

#include <gtest/gtest.h>

#include "memory_image.h"
#include "ops_test_util.h"

namespace cella::block::ops {
namespace {

using testing::MemoryImage;
using testing::put;

TEST(ChainMap, ResolvesUnallocatedRangesDownTheChain) {
  MemoryImage base("base", 64 << 10);
  MemoryImage middle("middle", 64 << 10, 4096, &base);
  MemoryImage top("top", 64 << 10, 4096, &middle);
  put(base, 0, 8192, 1);
  put(middle, 8192, 4096, 2);
  put(top, 0, 4096, 3);
  ASSERT_TRUE(top.write_zeroes(16384, 4096, true).ok());
  auto map = map_chain(top, 0, 64 << 10);
  ASSERT_TRUE(map.ok()) << map.error().message();
  struct Expected {
    uint64_t offset, length;
    ExtentKind kind;
    int depth;
  };
  const std::vector<Expected> expected = {
      {0, 4096, ExtentKind::kData, 0},     {4096, 4096, ExtentKind::kData, 2},
      {8192, 4096, ExtentKind::kData, 1},  {12288, 4096, ExtentKind::kUnallocated, 2},
      {16384, 4096, ExtentKind::kZero, 0}, {20480, 45056, ExtentKind::kUnallocated, 2},
  };
  ASSERT_EQ(map->size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ((*map)[i].offset, expected[i].offset) << i;
    EXPECT_EQ((*map)[i].length, expected[i].length) << i;
    EXPECT_EQ((*map)[i].kind, expected[i].kind) << i;
    EXPECT_EQ((*map)[i].depth, expected[i].depth) << i;
  }
}

TEST(ChainMap, PastAShorterBackingImageIsUnallocated) {
  MemoryImage base("base", 8192);
  MemoryImage top("top", 32768, 4096, &base);
  put(base, 0, 8192, 1);
  auto map = map_chain(top, 0, 32768);
  ASSERT_TRUE(map.ok());
  ASSERT_EQ(map->size(), 2u);
  EXPECT_EQ((*map)[0].kind, ExtentKind::kData);
  EXPECT_EQ((*map)[0].depth, 1);
  EXPECT_EQ((*map)[1].kind, ExtentKind::kUnallocated);
  EXPECT_EQ((*map)[1].offset, 8192u);
  EXPECT_EQ((*map)[1].length, 24576u);
  auto zero = known_zero(&top, 8192, 24576);
  ASSERT_TRUE(zero.ok());
  EXPECT_TRUE(*zero);
  EXPECT_FALSE(*known_zero(&top, 4096, 8192));
  EXPECT_TRUE(*known_zero(nullptr, 0, 100));
}

// A format that resolves its own chain, as qcow2 does: what the backing answers comes back at
// depth >= 1, and kUnallocated there means allocated nowhere.
class ResolvingImage : public MemoryImage {
 public:
  using MemoryImage::MemoryImage;
  Result<std::vector<Extent>> map(uint64_t offset, uint64_t length) override {
    CELLA_TRY_ASSIGN(own, MemoryImage::map(offset, length));
    std::vector<Extent> out;
    for (Extent& extent : own) {
      if (extent.kind != ExtentKind::kUnallocated || backing() == nullptr) {
        out.push_back(extent);
        continue;
      }
      CELLA_TRY_ASSIGN(below, map_chain(*backing(), extent.offset, extent.length));
      for (Extent& deeper : below) {
        deeper.depth += 1;
        out.push_back(deeper);
      }
    }
    return out;
  }
};

TEST(ChainMap, AcceptsFormatsThatResolveTheirChain) {
  MemoryImage base("base", 16384);
  ResolvingImage middle("middle", 16384, 4096, &base);
  ResolvingImage top("top", 16384, 4096, &middle);
  put(base, 0, 4096, 1);
  put(middle, 4096, 4096, 2);
  auto map = map_chain(top, 0, 16384);
  ASSERT_TRUE(map.ok());
  ASSERT_EQ(map->size(), 3u);
  EXPECT_EQ((*map)[0].depth, 2);
  EXPECT_EQ((*map)[0].kind, ExtentKind::kData);
  EXPECT_EQ((*map)[1].depth, 1);
  EXPECT_EQ((*map)[2].depth, 2);  // allocated nowhere: the depth of the last image consulted
  EXPECT_EQ((*map)[2].kind, ExtentKind::kUnallocated);
}

// A format whose map does not tile the range it was asked about.
class GappyImage : public MemoryImage {
 public:
  using MemoryImage::MemoryImage;
  Result<std::vector<Extent>> map(uint64_t offset, uint64_t length) override {
    Extent half;
    half.offset = offset;
    half.length = length / 2;
    return std::vector<Extent>{half};
  }
};

TEST(ChainMap, RejectsMapsThatDoNotTileTheRange) {
  GappyImage image("gappy", 8192);
  auto map = map_chain(image, 0, 8192);
  ASSERT_FALSE(map.ok());
  EXPECT_NE(map.error().message().find("map stops at 4096"), std::string::npos);
}

TEST(ChainMap, MergesContinuingExtents) {
  std::vector<Extent> extents;
  append_extent(extents, Extent{.offset = 0,
                                .length = 10,
                                .kind = ExtentKind::kData,
                                .depth = 0,
                                .host_offset = 100,
                                .host_file = "f"});
  append_extent(extents, Extent{.offset = 10,
                                .length = 5,
                                .kind = ExtentKind::kData,
                                .depth = 0,
                                .host_offset = 110,
                                .host_file = "f"});
  append_extent(extents, Extent{.offset = 15,
                                .length = 5,
                                .kind = ExtentKind::kData,
                                .depth = 0,
                                .host_offset = 200,
                                .host_file = "f"});
  append_extent(extents, Extent{.offset = 20,
                                .length = 0,
                                .kind = ExtentKind::kData,
                                .depth = 0,
                                .host_offset = -1,
                                .host_file = {}});
  ASSERT_EQ(extents.size(), 2u);
  EXPECT_EQ(extents[0].length, 15u);
  EXPECT_EQ(extents[1].host_offset, 200);
}

}  // namespace
}  // namespace cella::block::ops
