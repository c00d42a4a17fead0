#include "block/ops/compare.h"

#include <gtest/gtest.h>

#include "memory_image.h"
#include "ops_test_util.h"

namespace cella::block::ops {
namespace {

using testing::MemoryImage;
using testing::put;

TEST(Compare, IdenticalContentWhateverTheAllocation) {
  MemoryImage a("a", 3 << 20);
  MemoryImage b("b", 3 << 20);
  put(a, 1000, 5000, 4);
  put(b, 1000, 5000, 4);
  put(b, 2 << 20, 4096, 0);  // allocated zeros read like a hole
  auto result = compare(a, b, CompareOptions{});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->difference, Difference::kNone);
  EXPECT_FALSE(result->size_mismatch);
}

TEST(Compare, ReportsTheFirstDifferingByte) {
  MemoryImage a("a", 3 << 20);
  MemoryImage b("b", 3 << 20);
  put(a, 0, 3 << 20, 1);
  put(b, 0, 3 << 20, 1);
  put(b, (2 << 20) + 12345, 1, 2);
  put(b, (2 << 20) + 20000, 1, 2);
  auto result = compare(a, b, CompareOptions{});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->difference, Difference::kContent);
  EXPECT_EQ(result->offset, (2u << 20) + 12345);
}

TEST(Compare, DataAgainstAHole) {
  MemoryImage a("a", 1 << 20);
  MemoryImage b("b", 1 << 20);
  put(a, 70000, 10, 3);
  auto result = compare(a, b, CompareOptions{});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->difference, Difference::kContent);
  EXPECT_EQ(result->offset, 70000u);
}

TEST(Compare, StrictComparesAllocationAndSize) {
  MemoryImage base("base", 1 << 20);
  MemoryImage a("a", 1 << 20, 4096, &base);
  MemoryImage b("b", 1 << 20, 4096, &base);
  ASSERT_TRUE(b.write_zeroes(8192, 4096, true).ok());  // zeros, but allocated
  CompareOptions strict;
  strict.strict = true;
  auto loose = compare(a, b, CompareOptions{});
  ASSERT_TRUE(loose.ok());
  EXPECT_EQ(loose->difference, Difference::kNone);
  auto result = compare(a, b, strict);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->difference, Difference::kAllocation);
  EXPECT_EQ(result->offset, 8192u);
  MemoryImage c("c", 2 << 20);
  auto sized = compare(base, c, strict);
  ASSERT_TRUE(sized.ok());
  EXPECT_EQ(sized->difference, Difference::kSize);
}

TEST(Compare, ALargerImageMustBeZeroPastTheSmallerOnesEnd) {
  MemoryImage small("small", 1 << 20);
  MemoryImage large("large", 4 << 20);
  auto same = compare(small, large, CompareOptions{});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->difference, Difference::kNone);
  EXPECT_TRUE(same->size_mismatch);
  put(large, (3 << 20) + 7, 1, 1);
  auto differs = compare(large, small, CompareOptions{});
  ASSERT_TRUE(differs.ok());
  EXPECT_EQ(differs->difference, Difference::kContent);
  EXPECT_EQ(differs->offset, (3u << 20) + 7);
}

}  // namespace
}  // namespace cella::block::ops
