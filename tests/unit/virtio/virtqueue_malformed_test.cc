// Hostile drivers: every malformed queue is an Error naming the problem, the queue does not
// advance, and (under ASan) nothing outside guest RAM is touched.
#include <gtest/gtest.h>

#include "tests/unit/virtio/queue_fixture.h"

namespace cella::virtio::testing {
namespace {

class MalformedTest : public QueueTest {
 protected:
  // Makes descriptor `head` the next available chain.
  void offer(uint16_t head) {
    driver_->set_avail_entry(0, head);
    driver_->set_avail_idx(1);
  }
};

TEST_F(MalformedTest, AvailableIndexTooFarAhead) {
  start(8);
  driver_->set_avail_idx(9);
  expect_pop_error("the available idx 9 is 9 entries ahead of the device's 0");
  driver_->set_avail_idx(0xffff);  // "behind" is the same thing modulo 2^16
  expect_pop_error("more than the queue size 8");
  // A full ring is fine.
  for (uint16_t i = 0; i < 8; ++i) {
    driver_->write_descriptor(i, kData, 1, 0, 0);
    driver_->set_avail_entry(i, i);
  }
  driver_->set_avail_idx(8);
  for (int i = 0; i < 8; ++i) pop_one();
}

TEST_F(MalformedTest, HeadBeyondTheQueue) {
  start(8);
  offer(8);
  expect_pop_error("names descriptor 8, beyond the queue size 8");
}

TEST_F(MalformedTest, NextBeyondTheQueue) {
  start(8);
  driver_->write_descriptor(0, kData, 8, kDescFlagNext, 1);
  driver_->write_descriptor(1, kData, 8, kDescFlagNext, 8);
  offer(0);
  expect_pop_error("descriptor 1: next 8 is beyond the descriptor table's 8 entries");
}

TEST_F(MalformedTest, LoopingChain) {
  start(8);
  driver_->write_descriptor(3, kData, 8, kDescFlagNext, 4);
  driver_->write_descriptor(4, kData, 8, kDescFlagNext, 3);
  offer(3);
  expect_pop_error("more than 8 descriptors in the descriptor table (a loop)");
  // A descriptor pointing at itself.
  driver_->write_descriptor(3, kData, 8, kDescFlagNext, 3);
  expect_pop_error("(a loop)");
}

TEST_F(MalformedTest, ChainAsLongAsTheQueueIsFine) {
  start(8);
  for (uint16_t i = 0; i < 8; ++i) {
    driver_->write_descriptor(i, kData + i, 1, i < 7 ? kDescFlagNext : 0, (i + 1) % 8);
  }
  offer(0);
  EXPECT_EQ(pop_one().readable_bytes, 8u);
}

TEST_F(MalformedTest, LoopInsideAnIndirectTable) {
  start(8);
  const uint64_t table = driver_->allocate(64);
  for (uint16_t i = 0; i < 4; ++i) {
    driver_->write_descriptor_at(table, i, kData, 8, kDescFlagNext, (i + 1) % 4);
  }
  driver_->write_descriptor(0, table, 64, kDescFlagIndirect, 0);
  offer(0);
  expect_pop_error("more than 4 descriptors in the indirect table (a loop)");
  driver_->write_descriptor_at(table, 3, kData, 8, kDescFlagNext, 4);
  expect_pop_error("next 4 is beyond the indirect table's 4 entries");
}

TEST_F(MalformedTest, IndirectWithNext) {
  start(8);
  const uint64_t table = driver_->allocate(16);
  driver_->write_descriptor_at(table, 0, kData, 8, 0, 0);
  driver_->write_descriptor(0, table, 16, kDescFlagIndirect | kDescFlagNext, 1);
  driver_->write_descriptor(1, kData, 8, 0, 0);
  offer(0);
  expect_pop_error("indirect descriptor 0 also has NEXT set");
}

TEST_F(MalformedTest, NestedIndirectTables) {
  start(8);
  const uint64_t inner = driver_->allocate(16);
  const uint64_t outer = driver_->allocate(32);
  driver_->write_descriptor_at(inner, 0, kData, 8, 0, 0);
  driver_->write_descriptor_at(outer, 0, kData, 8, kDescFlagNext, 1);
  driver_->write_descriptor_at(outer, 1, inner, 16, kDescFlagIndirect, 0);
  driver_->write_descriptor(2, outer, 32, kDescFlagIndirect, 0);
  offer(2);
  expect_pop_error("indirect descriptor 1 inside an indirect table");
}

TEST_F(MalformedTest, IndirectTableLengths) {
  start(8);
  offer(0);
  for (const uint32_t length : {0u, 8u, 24u, 17u, (kMaxQueueSize + 1u) * 16u, 0xfffffff0u}) {
    driver_->write_descriptor(0, kData, length, kDescFlagIndirect, 0);
    expect_pop_error("is not a nonzero multiple of 16 of at most 32768 entries");
  }
}

TEST_F(MalformedTest, IndirectTableOutsideRam) {
  start(8);
  driver_->write_descriptor(0, kHole - 16, 32, kDescFlagIndirect, 0);
  offer(0);
  expect_pop_error("guest physical 0x30000 is not RAM");
}

TEST_F(MalformedTest, IndirectTableAcrossTwoMappingsIsRead) {
  // Contiguous guest RAM in two host mappings: the table is copied, not refused.
  start(8);
  const uint64_t table = kSecondRegion - 16;
  driver_->write_descriptor_at(table, 0, kData, 8, kDescFlagNext, 1);
  driver_->write_descriptor_at(table, 1, kData + 0x100, 4, kDescFlagWrite, 0);
  driver_->write_descriptor(0, table, 32, kDescFlagIndirect, 0);
  offer(0);
  const DescriptorChain chain = pop_one();
  EXPECT_EQ(chain.readable_bytes, 8u);
  EXPECT_EQ(chain.writable_bytes, 4u);
}

TEST_F(MalformedTest, ReadableAfterWritable) {
  start(8);
  driver_->write_descriptor(0, kData, 8, kDescFlagNext | kDescFlagWrite, 1);
  driver_->write_descriptor(1, kData, 8, 0, 0);
  offer(0);
  expect_pop_error("descriptor 1 is device-readable but follows a device-writable one");
}

TEST_F(MalformedTest, BufferTouchingNonRam) {
  start(8);
  driver_->write_descriptor(0, kData, 8, kDescFlagNext, 1);
  driver_->write_descriptor(1, kHole - 4, 8, kDescFlagWrite, 0);
  offer(0);
  expect_pop_error("descriptor 1: buffer 0x2fffc+0x8: 0x30000 is not RAM");
  driver_->write_descriptor(1, ~uint64_t{0} - 3, 8, kDescFlagWrite, 0);  // wraps the address space
  expect_pop_error("is not RAM");
  driver_->write_descriptor(1, kHighRam + 0xfff0, 0x20, 0, 0);  // runs off the high RAM
  expect_pop_error("0x100010000 is not RAM");
}

TEST_F(MalformedTest, ChainOverFourGigabytes) {
  // 2.7.5.2: at most 2^32 - 1 bytes in total. Reserved, never touched, RAM: the check is on
  // the lengths, not the contents.
  ASSERT_TRUE(memory_.add_ram(0x200000000, 0x100000000).ok());
  start(8);
  driver_->write_descriptor(0, 0x200000000, 0x80000000, kDescFlagNext, 1);
  driver_->write_descriptor(1, 0x280000000, 0x7fffffff, kDescFlagNext | kDescFlagWrite, 2);
  driver_->write_descriptor(2, 0x2ffffffff, 1, kDescFlagWrite, 0);
  offer(0);
  expect_pop_error("descriptor 2: the chain is longer than 4294967295 bytes");
  driver_->write_descriptor(2, 0x2ffffffff, 0, kDescFlagWrite, 0);  // exactly 2^32 - 1
  const DescriptorChain chain = pop_one();
  EXPECT_EQ(chain.readable_bytes + chain.writable_bytes, 0xffffffffu);
}

}  // namespace
}  // namespace cella::virtio::testing
