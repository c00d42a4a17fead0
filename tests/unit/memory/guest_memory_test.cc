#include "memory/guest_memory.h"

#include <gtest/gtest.h>

#include <array>

namespace cella::memory {
namespace {

TEST(GuestMemory, RegionsMapPagesAndLeaveHoles) {
  GuestMemory m;
  ASSERT_TRUE(m.add_ram(0, 0x100000));
  ASSERT_TRUE(m.add_ram(0x100000000, 0x200000));  // above a 4 GiB hole
  EXPECT_EQ(m.ram_size(), 0x300000u);
  ASSERT_EQ(m.regions().size(), 2u);

  uint8_t* page = m.host_page(0x1234);
  ASSERT_NE(page, nullptr);
  EXPECT_EQ(page, m.host_page(0x1000));
  EXPECT_EQ(page + 0x1000, m.host_page(0x2fff));
  EXPECT_EQ(page[0x234], 0);  // fresh RAM reads as zeros
  EXPECT_NE(m.host_page(0x100000123), nullptr);
  // Holes: MMIO or nothing; never a host pointer.
  EXPECT_EQ(m.host_page(0x100000), nullptr);
  EXPECT_EQ(m.host_page(0xfee00000), nullptr);
  EXPECT_EQ(m.host_page(0x100200000), nullptr);
  EXPECT_FALSE(m.is_ram(0xffffffff));
  EXPECT_TRUE(m.is_ram(0x1001fffff));
}

TEST(GuestMemory, ReadWriteAndRanges) {
  GuestMemory m;
  ASSERT_TRUE(m.add_ram(0x10000, 0x2000));
  const std::array<uint8_t, 4> data{1, 2, 3, 4};
  ASSERT_TRUE(m.write(0x10ffe, data));  // crosses a page inside the region
  std::array<uint8_t, 4> back{};
  ASSERT_TRUE(m.read(0x10ffe, back));
  EXPECT_EQ(back, data);
  EXPECT_EQ(m.host_page(0x11000)[0], 3);
  EXPECT_NE(m.host_range(0x10000, 0x2000), nullptr);
  EXPECT_EQ(m.host_range(0x10000, 0x2001), nullptr);
  // A write that runs off RAM is refused without writing anything.
  const std::array<uint8_t, 4> other{9, 9, 9, 9};
  const Result<void> r = m.write(0x11ffe, other);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("0x12000"), std::string::npos);
  EXPECT_EQ(m.host_page(0x11000)[0xffe], 0);
  EXPECT_FALSE(m.read(0xf000, back));
}

TEST(GuestMemory, RejectsBadRegions) {
  GuestMemory m;
  ASSERT_TRUE(m.add_ram(0x100000, 0x100000));
  EXPECT_FALSE(m.add_ram(0x1000, 0));
  EXPECT_FALSE(m.add_ram(0x1001, 0x1000));
  EXPECT_FALSE(m.add_ram(0x1000, 0x1001));
  EXPECT_FALSE(m.add_ram(0x1ff000, 0x2000));  // overlaps the end
  EXPECT_FALSE(m.add_ram(0xff000, 0x2000));   // overlaps the start
  EXPECT_FALSE(m.add_ram(uint64_t{1} << 52, 0x1000));
  EXPECT_FALSE(m.add_ram((uint64_t{1} << 52) - 0x1000, 0x2000));
  EXPECT_EQ(m.regions().size(), 1u);
  // Adjacent is fine; regions stay sorted.
  ASSERT_TRUE(m.add_ram(0, 0x100000));
  EXPECT_EQ(m.regions()[0].guest_physical, 0u);
  GuestMemory moved = std::move(m);
  EXPECT_NE(moved.host_page(0x180000), nullptr);
  EXPECT_EQ(m.host_page(0x180000), nullptr);  // NOLINT: moved-from is empty
}

}  // namespace
}  // namespace cella::memory
