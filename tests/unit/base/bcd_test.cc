#include <gtest/gtest.h>

#include "base/bits.h"

namespace cella {
namespace {

TEST(Bits, BinaryCodedDecimal) {
  EXPECT_EQ(to_bcd(59, 2), 0x59u);
  EXPECT_EQ(to_bcd(1999, 4), 0x1999u);
  EXPECT_EQ(to_bcd(123, 2), 0x23u);  // only the low digits fit
  EXPECT_EQ(from_bcd(0x9999, 4), 9999u);
  EXPECT_EQ(from_bcd(0xff, 2), 165u);  // nibbles above 9 count as their value
  for (uint64_t v = 0; v < 10000; v += 7) EXPECT_EQ(from_bcd(to_bcd(v, 4), 4), v);
}

TEST(Bits, FloorDivisionRoundsDown) {
  EXPECT_EQ(floor_div(7, 2), 3);
  EXPECT_EQ(floor_div(-7, 2), -4);
  EXPECT_EQ(floor_div(-8, 2), -4);
  EXPECT_EQ(floor_div(7, -2), -4);
  EXPECT_EQ(floor_div(-1, 86400), -1);
}

}  // namespace
}  // namespace cella
