// virtio-blk DISCARD and WRITE_ZEROES (virtio 1.2 5.2.6, 5.2.6.2): the range list, its flags,
// the limits the configuration space advertises, and what reaches the image.
#include <gtest/gtest.h>

#include "tests/unit/block/image_test_support.h"
#include "tests/unit/virtio/blk_fixture.h"

namespace cella::virtio::testing {
namespace {

using blk_spec::RequestType;
using blk_spec::Status;
using block::testing::MemoryImage;
using block::testing::pattern;

// 5.2.6: struct virtio_blk_discard_write_zeroes.
std::vector<uint8_t> range(uint64_t sector, uint32_t sectors, uint32_t flags) {
  std::vector<uint8_t> bytes(blk_spec::kRangeSize);
  store_le<uint64_t>(bytes.data(), sector);
  store_le<uint32_t>(bytes.data() + 8, sectors);
  store_le<uint32_t>(bytes.data() + 12, flags);
  return bytes;
}

class BlkDiscardTest : public BlkTest {
 protected:
  // Runs `type` with `ranges` (concatenated) as its payload; returns the status.
  uint8_t send(RequestType type, const std::vector<uint8_t>& ranges) {
    put(kBuffers, ranges);
    std::vector<Buffer> data;
    if (!ranges.empty()) data.push_back({kBuffers, static_cast<uint32_t>(ranges.size()), false});
    const Done done = run({type, 0, data});
    EXPECT_EQ(done.used.len, 1u);
    return done.status;
  }
  void fill_disk() { ASSERT_TRUE(image_->write(0, pattern(0, kDiskSize, 7)).ok()); }
};

TEST_F(BlkDiscardTest, DiscardDeallocatesTheClustersInside) {
  start();
  fill_disk();
  // Sectors 8-31: clusters 1-3 (4 KiB each).
  EXPECT_EQ(send(RequestType::kDiscard, range(8, 24, 0)), status_of(Status::kOk));
  EXPECT_EQ(image_->state(0), MemoryImage::State::kData);
  for (uint64_t c = 1; c <= 3; ++c) EXPECT_EQ(image_->state(c), MemoryImage::State::kZero) << c;
  EXPECT_EQ(image_->state(4), MemoryImage::State::kData);
  EXPECT_EQ(blk_->metrics().discards, 1u);
}

TEST_F(BlkDiscardTest, WriteZeroesZeroesExactlyTheRange) {
  start();
  fill_disk();
  EXPECT_EQ(send(RequestType::kWriteZeroes, range(3, 2, 0)), status_of(Status::kOk));
  EXPECT_EQ(disk(3 * 512, 1024), std::vector<uint8_t>(1024, 0));
  EXPECT_EQ(disk(2 * 512, 512), pattern(2 * 512, 512, 7));
  EXPECT_EQ(disk(5 * 512, 512), pattern(5 * 512, 512, 7));
  EXPECT_EQ(image_->zero_writes, 1u);
  EXPECT_EQ(image_->unmapping_zero_writes, 0u);
  // With UNMAP the image may deallocate.
  EXPECT_EQ(send(RequestType::kWriteZeroes, range(64, 16, blk_spec::kRangeFlagUnmap)),
            status_of(Status::kOk));
  EXPECT_EQ(disk(64 * 512, 16 * 512), std::vector<uint8_t>(16 * 512, 0));
  EXPECT_EQ(image_->unmapping_zero_writes, 1u);
  EXPECT_EQ(blk_->metrics().write_zeroes, 2u);
}

TEST_F(BlkDiscardTest, FlagsOutsideTheSpecAreUnsupported) {
  start();
  fill_disk();
  // 5.2.6.2: UNMAP is meaningful only for WRITE_ZEROES; other bits are reserved.
  EXPECT_EQ(send(RequestType::kDiscard, range(8, 8, blk_spec::kRangeFlagUnmap)),
            status_of(Status::kUnsupported));
  EXPECT_EQ(send(RequestType::kWriteZeroes, range(8, 8, 2)), status_of(Status::kUnsupported));
  EXPECT_EQ(send(RequestType::kDiscard, range(8, 8, 0x80000000)), status_of(Status::kUnsupported));
  EXPECT_EQ(image_->state(1), MemoryImage::State::kData);
  EXPECT_EQ(image_->zero_writes, 0u);
}

TEST_F(BlkDiscardTest, MalformedRangeListsAreUnsupported) {
  start();
  std::vector<uint8_t> two = range(0, 8, 0);
  const std::vector<uint8_t> second = range(16, 8, 0);
  two.insert(two.end(), second.begin(), second.end());
  for (RequestType type : {RequestType::kDiscard, RequestType::kWriteZeroes}) {
    EXPECT_EQ(send(type, {}), status_of(Status::kUnsupported));  // no range
    EXPECT_EQ(send(type, std::vector<uint8_t>(15, 0)), status_of(Status::kUnsupported));
    EXPECT_EQ(send(type, std::vector<uint8_t>(17, 0)), status_of(Status::kUnsupported));
    EXPECT_EQ(send(type, two), status_of(Status::kUnsupported));  // max segments is 1
  }
  EXPECT_EQ(image_->zero_writes, 0u);
}

TEST_F(BlkDiscardTest, RangesPastTheDiskOrTheLimitsAreIoErrors) {
  start();
  for (RequestType type : {RequestType::kDiscard, RequestType::kWriteZeroes}) {
    EXPECT_EQ(send(type, range(kDiskSectors - 4, 8, 0)), status_of(Status::kIoError));
    EXPECT_EQ(send(type, range(~uint64_t{0} - 3, 8, 0)), status_of(Status::kIoError));
    EXPECT_EQ(send(type, range(0, 0x800000, 0)), status_of(Status::kIoError));  // > max sectors
    EXPECT_EQ(send(type, range(kDiskSectors - 8, 8, 0)), status_of(Status::kOk));
  }
}

TEST_F(BlkDiscardTest, ReadOnlyDiskRefusesBoth) {
  start({.read_only = true, .serial = ""});
  EXPECT_EQ(send(RequestType::kDiscard, range(0, 8, 0)), status_of(Status::kIoError));
  EXPECT_EQ(send(RequestType::kWriteZeroes, range(0, 8, 0)), status_of(Status::kIoError));
  EXPECT_EQ(image_->zero_writes, 0u);
}

}  // namespace
}  // namespace cella::virtio::testing
