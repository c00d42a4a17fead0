// VmaMap: placement, splitting and merging of the guest's memory areas.
#include "user/vma_map.h"

#include <gtest/gtest.h>

namespace cella::user {
namespace {

constexpr uint64_t kPage = 4096;

Vma anonymous(uint64_t start, uint64_t end, uint32_t protection = prot::kRead | prot::kWrite) {
  Vma v;
  v.start = start;
  v.end = end;
  v.protection = protection;
  return v;
}

Vma file(uint64_t start, uint64_t end, uint64_t offset) {
  Vma v = anonymous(start, end, prot::kRead);
  v.anonymous = false;
  v.offset = offset;
  v.device = 1;
  v.inode = 2;
  v.name = "/lib/x";
  return v;
}

TEST(VmaMap, AdjacentAreasWithTheSameAttributesMerge) {
  VmaMap map;
  map.insert(anonymous(0x10000, 0x20000));
  map.insert(anonymous(0x20000, 0x30000));
  ASSERT_EQ(map.count(), 1u);
  EXPECT_EQ(map.find(0x2ffff)->start, 0x10000u);
  EXPECT_EQ(map.find(0x10000)->end, 0x30000u);
  EXPECT_EQ(map.find(0x30000), nullptr);
  EXPECT_EQ(map.find(0xffff), nullptr);
  map.insert(anonymous(0x30000, 0x40000, prot::kRead));  // different protection: separate
  EXPECT_EQ(map.count(), 2u);
}

TEST(VmaMap, RemovingTheMiddleSplitsAnArea) {
  VmaMap map;
  map.insert(anonymous(0x10000, 0x40000));
  map.remove(0x20000, 0x30000);
  ASSERT_EQ(map.count(), 2u);
  EXPECT_TRUE(map.covered(0x10000, 0x20000));
  EXPECT_FALSE(map.covered(0x10000, 0x30000));
  EXPECT_FALSE(map.overlaps(0x20000, 0x30000));
  EXPECT_TRUE(map.overlaps(0x2f000, 0x31000));
  EXPECT_EQ(map.find(0x30000)->start, 0x30000u);
}

TEST(VmaMap, ProtectSplitsAndRemergesAndKeepsFileOffsets) {
  VmaMap map;
  map.insert(file(0x100000, 0x104000, 0x2000));
  map.protect(0x101000, 0x102000, prot::kRead | prot::kExec);
  ASSERT_EQ(map.count(), 3u);
  EXPECT_EQ(map.find(0x101000)->offset, 0x3000u);
  EXPECT_EQ(map.find(0x102000)->offset, 0x4000u);
  EXPECT_EQ(map.find(0x101000)->protection, prot::kRead | prot::kExec);
  map.protect(0x101000, 0x102000, prot::kRead);
  EXPECT_EQ(map.count(), 1u);
  EXPECT_EQ(map.find(0x103000)->offset, 0x2000u);
}

TEST(VmaMap, FileAreasMergeOnlyWhenOffsetsContinue) {
  VmaMap map;
  map.insert(file(0x100000, 0x101000, 0));
  map.insert(file(0x101000, 0x102000, 0x5000));
  EXPECT_EQ(map.count(), 2u);
  map.insert(file(0x102000, 0x103000, 0x6000));
  EXPECT_EQ(map.count(), 2u);
}

TEST(VmaMap, InsertReplacesOverlappedAreas) {
  VmaMap map;
  map.insert(anonymous(0x10000, 0x20000));
  map.insert(anonymous(0x18000, 0x28000, prot::kRead));
  ASSERT_EQ(map.count(), 2u);
  EXPECT_EQ(map.find(0x17fff)->end, 0x18000u);
  EXPECT_EQ(map.find(0x18000)->protection, prot::kRead);
}

TEST(VmaMap, FindFreeTopDownAndBottomUp) {
  VmaMap map;
  map.insert(anonymous(0x10000, 0x20000));
  map.insert(anonymous(0x30000, 0x40000, prot::kRead));
  map.insert(anonymous(0x80000, 0x90000));
  // Top-down below 0x80000: the highest hole is [0x40000, 0x80000).
  EXPECT_EQ(map.find_free(0x10000, 0x10000, 0x80000), 0x70000u);
  EXPECT_EQ(map.find_free(0x40000, 0x10000, 0x80000), 0x40000u);
  // A hole too small is skipped.
  EXPECT_EQ(map.find_free(0x50000, 0x10000, 0x80000), std::nullopt);
  EXPECT_EQ(map.find_free(0x10000, 0x10000, 0x80000, false), 0x20000u);
  EXPECT_EQ(map.find_free(0x20000, 0x10000, 0x80000, false), 0x40000u);
  // The range may start inside an area.
  EXPECT_EQ(map.find_free(kPage, 0x38000, 0x41000, false), 0x40000u);
  EXPECT_EQ(map.find_free(kPage, 0x38000, 0x41000, true), 0x40000u);
}

TEST(VmaMap, MoveKeepsAttributes) {
  VmaMap map;
  map.insert(file(0x100000, 0x102000, 0x1000));
  map.move(0x100000, 0x2000, 0x500000);
  EXPECT_EQ(map.find(0x100000), nullptr);
  ASSERT_NE(map.find(0x501000), nullptr);
  EXPECT_EQ(map.find(0x501000)->start, 0x500000u);
  EXPECT_EQ(map.find(0x501000)->offset, 0x1000u);
  EXPECT_EQ(map.find(0x501000)->name, "/lib/x");
}

}  // namespace
}  // namespace cella::user
