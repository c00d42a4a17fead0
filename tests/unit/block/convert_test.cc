#include "block/ops/convert.h"

#include <gtest/gtest.h>

#include "memory_image.h"
#include "ops_test_util.h"

namespace cella::block::ops {
namespace {

using testing::contents;
using testing::MemoryImage;
using testing::put;
using State = MemoryImage::State;

constexpr uint64_t kSize = 5 << 20;  // more than one chunk of work

TEST(Convert, CopiesContentAndLeavesZerosUnwritten) {
  MemoryImage source("source", kSize);
  put(source, 0, 4096, 1);
  put(source, 3 << 20, 8192, 0);  // allocated, but zeros
  put(source, kSize - 100, 100, 9);
  MemoryImage target("target", kSize);
  std::vector<std::pair<uint64_t, uint64_t>> progress;
  ConvertOptions options;
  options.progress = [&](uint64_t done, uint64_t total) { progress.emplace_back(done, total); };
  auto converted = convert(source, target, options);
  ASSERT_TRUE(converted.ok()) << converted.error().message();
  EXPECT_EQ(contents(target), contents(source));
  EXPECT_EQ(target.count(State::kData), 2u);  // the zero block stayed sparse
  EXPECT_EQ(target.zero_writes, 0u);          // a new target already reads as zeros
  EXPECT_GE(target.flushes, 1u);
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), std::make_pair(kSize, kSize));
}

TEST(Convert, MinSparseZeroWritesEverything) {
  MemoryImage source("source", 1 << 20);
  put(source, 4096, 4096, 7);
  MemoryImage target("target", 1 << 20);
  ConvertOptions options;
  options.min_sparse = 0;
  ASSERT_TRUE(convert(source, target, options).ok());
  EXPECT_EQ(contents(target), contents(source));
  EXPECT_EQ(target.count(State::kData), (1u << 20) / 4096);  // fully allocated
}

TEST(Convert, MinSparseIsTheZeroRunGranularity) {
  MemoryImage source("source", 1 << 20);
  std::vector<uint8_t> data(64 << 10, 0);
  data[0] = 1;  // one non-zero byte in the first 4 KiB of a 64 KiB data run
  ASSERT_TRUE(source.write(0, data).ok());
  MemoryImage fine("fine", 1 << 20);
  ASSERT_TRUE(convert(source, fine, ConvertOptions{}).ok());
  EXPECT_EQ(fine.bytes_written, 4096u);
  MemoryImage coarse("coarse", 1 << 20);
  ConvertOptions options;
  options.min_sparse = 64 << 10;
  ASSERT_TRUE(convert(source, coarse, options).ok());
  EXPECT_EQ(coarse.bytes_written, 64u << 10);
  EXPECT_EQ(contents(fine), contents(source));
  EXPECT_EQ(contents(coarse), contents(source));
}

TEST(Convert, OverwritesAnExistingTargetWithZerosWhereNeeded) {
  MemoryImage source("source", 1 << 20);
  put(source, 0, 4096, 1);
  MemoryImage target("target", 2 << 20);
  put(target, 0, 2 << 20, 0xEE);  // old content everywhere
  ConvertOptions options;
  options.target_zeroed = false;
  ASSERT_TRUE(convert(source, target, options).ok());
  std::vector<uint8_t> head(1 << 20);
  ASSERT_TRUE(target.read(0, head).ok());
  EXPECT_EQ(head, contents(source));
  std::vector<uint8_t> tail(16);
  ASSERT_TRUE(target.read(1 << 20, tail).ok());  // past the source: untouched
  EXPECT_EQ(tail, std::vector<uint8_t>(16, 0xEE));
}

TEST(Convert, RefusesASmallerTarget) {
  MemoryImage source("source", 1 << 20);
  MemoryImage target("target", 1 << 19);
  auto converted = convert(source, target, ConvertOptions{});
  ASSERT_FALSE(converted.ok());
  EXPECT_NE(converted.error().message().find("smaller"), std::string::npos);
}

TEST(Convert, CompressesWholeNonZeroClusters) {
  MemoryImage source("source", (1 << 20) + 1000);
  put(source, 100, 10, 1);               // cluster 0
  put(source, 65536 * 3, 65536, 2);      // cluster 3
  put(source, (1 << 20) + 500, 500, 3);  // the short last cluster
  put(source, 65536 * 5, 4096, 0);       // allocated zeros: skipped
  MemoryImage target("target", (1 << 20) + 1000, 65536);
  MemoryImage plain("plain", (1 << 20) + 1000, 65536);
  target.set_compressible(true);
  ConvertOptions options;
  options.compress = true;
  auto refused = convert(source, plain, options);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("compressed"), std::string::npos);
  auto converted = convert(source, target, options);
  ASSERT_TRUE(converted.ok()) << converted.error().message();
  EXPECT_EQ(target.compressed_writes, 3u);
  EXPECT_EQ(contents(target), contents(source));
}

TEST(Convert, TopOnlyCopiesWhatTheTopImageAllocates) {
  MemoryImage base("base", 1 << 20);
  put(base, 0, 1 << 20, 5);
  MemoryImage overlay("overlay", 1 << 20, 4096, &base);
  put(overlay, 8192, 4096, 6);
  ASSERT_TRUE(overlay.write_zeroes(16384, 4096, true).ok());
  // The target's backing holds the same content as the source's.
  MemoryImage target_base("target-base", 1 << 20);
  put(target_base, 0, 1 << 20, 5);
  MemoryImage target("target", 1 << 20, 4096, &target_base);
  ConvertOptions options;
  options.top_only = true;
  options.target_zeroed = false;
  ASSERT_TRUE(convert(overlay, target, options).ok());
  EXPECT_EQ(contents(target), contents(overlay));
  EXPECT_EQ(target.count(State::kData), 1u);
  EXPECT_EQ(target.count(State::kZero), 1u);  // the zero cluster hides the backing
}

TEST(Convert, TopOnlyWithoutSourceBackingWritesItsZeros) {
  MemoryImage source("source", 64 << 10);
  put(source, 0, 4096, 1);
  MemoryImage target_base("target-base", 64 << 10);
  put(target_base, 0, 64 << 10, 5);
  MemoryImage target("target", 64 << 10, 4096, &target_base);
  ConvertOptions options;
  options.top_only = true;
  options.target_zeroed = false;
  ASSERT_TRUE(convert(source, target, options).ok());
  EXPECT_EQ(contents(target), contents(source));
}

TEST(Convert, ThroughAChain) {
  MemoryImage base("base", 3 << 20);
  put(base, 0, 3 << 20, 1);
  MemoryImage overlay("overlay", 3 << 20, 65536, &base);
  put(overlay, 100000, 300000, 2);
  ASSERT_TRUE(overlay.write_zeroes(2 << 20, 65536, true).ok());
  MemoryImage target("target", 3 << 20);
  ASSERT_TRUE(convert(overlay, target, ConvertOptions{}).ok());
  EXPECT_EQ(contents(target), contents(overlay));
}

}  // namespace
}  // namespace cella::block::ops
