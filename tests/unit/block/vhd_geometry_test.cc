#include "block/vhd/vhd_geometry.h"

#include <gtest/gtest.h>

namespace cella::block::vhd {
namespace {

// Sizes and geometries qemu-img 7.2 gives `create -f vpc <size>` (its virtual size and the
// footer's geometry field), which follow [VHD] "Appendix: CHS Calculation".
struct Expected {
  uint64_t requested;
  uint64_t size;
  Geometry geometry;
};
constexpr Expected kQemuSizes[] = {
    {1000, 34816, {1, 4, 17}},
    {1ull << 20, 1079296, {31, 4, 17}},
    {10ull << 20, 10514432, {302, 4, 17}},
    {100ull << 20, 104865792, {1004, 12, 17}},
    {1ull << 30, 1073995776, {2081, 16, 63}},
    {4ull << 30, 4295467008, {8323, 16, 63}},
    {31ull << 30, 33286127616, {64496, 16, 63}},
    {127ull << 30, 136365219840, {65279, 16, 255}},
    {128ull << 30, 137438953472, {65535, 16, 255}},  // beyond CHS: exact size, max geometry
    {200ull << 30, 214748364800, {65535, 16, 255}},
};

TEST(VhdGeometry, RoundsUpLikeQemuImg) {
  for (const Expected& expected : kQemuSizes) {
    auto plan = plan_size(expected.requested, false);
    ASSERT_TRUE(plan.ok());
    EXPECT_EQ(plan->size, expected.size) << expected.requested;
    EXPECT_EQ(plan->geometry, expected.geometry) << expected.requested;
  }
}

TEST(VhdGeometry, ForceSizeKeepsTheSectorRoundedSize) {
  auto plan = plan_size(1000, true);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->size, 1024u);
  EXPECT_EQ(plan->geometry, kMaxGeometry);
  EXPECT_EQ(plan_size(10 << 20, true)->size, 10u << 20);
}

TEST(VhdGeometry, SpecAlgorithmBranches) {
  // 17 sectors per track while cylinders fit, then 31, then 63, then 255 (spec appendix).
  EXPECT_EQ(geometry_for_sectors(20480), (Geometry{301, 4, 17}));
  EXPECT_EQ(geometry_for_sectors(65535ull * 16 * 63), (Geometry{16191, 16, 255}));
  EXPECT_EQ(geometry_for_sectors(~0ull), kMaxGeometry);
  for (uint64_t sectors : {1ull, 1000ull, 123457ull, 9999999ull, 200000000ull}) {
    EXPECT_LE(geometry_for_sectors(sectors).total_sectors(), sectors);
  }
}

TEST(VhdGeometry, RejectsZeroAndTooLarge) {
  EXPECT_FALSE(plan_size(0, false).ok());
  EXPECT_TRUE(plan_size(kMaxDiskSize, false).ok());
  EXPECT_FALSE(plan_size(kMaxDiskSize + 1, true).ok());
}

TEST(VhdGeometry, VirtualSizeFollowsTheCreator) {
  Footer footer;
  footer.current_size = 10 << 20;
  footer.geometry = {302, 4, 17};  // 10514432 bytes
  std::memcpy(footer.creator_application.data(), "vpc ", 4);
  EXPECT_EQ(virtual_size(footer), 10u << 20);  // never above Current Size
  footer.geometry = {301, 4, 17};
  EXPECT_EQ(virtual_size(footer), 301u * 4 * 17 * 512);  // Virtual PC: the geometry
  std::memcpy(footer.creator_application.data(), "win ", 4);
  EXPECT_EQ(virtual_size(footer), 10u << 20);  // Hyper-V: Current Size
  std::memcpy(footer.creator_application.data(), "qemu", 4);
  footer.geometry = kMaxGeometry;
  EXPECT_EQ(virtual_size(footer), 10u << 20);  // maximum geometry: Current Size
}

}  // namespace
}  // namespace cella::block::vhd
