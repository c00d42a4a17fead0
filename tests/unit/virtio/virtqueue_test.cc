// The split virtqueue's device side against a Linux-like test driver: enabling, direct and
// indirect chains, segments across RAM regions, used entries, index wrap-around.
#include <gtest/gtest.h>

#include <cstring>

#include "tests/unit/virtio/queue_fixture.h"

namespace cella::virtio::testing {
namespace {

TEST_F(QueueTest, EnableRefusesBadLayouts) {
  const QueueLayout good = FakeDriver::contiguous_layout(kRings, 8);
  const auto refused = [&](QueueLayout layout, std::string_view needle) {
    const Result<void> r = queue_.enable(layout, false);
    ASSERT_FALSE(r.ok()) << needle;
    EXPECT_NE(r.error().message().find(needle), std::string::npos) << r.error().message();
    EXPECT_FALSE(queue_.enabled());
  };
  for (const uint16_t size : {0, 3, 12, 65535, 40000}) {
    QueueLayout bad = good;
    bad.size = size;
    refused(bad, "power of two");
  }
  refused({8, kRings + 8, good.available, good.used}, "descriptor table at 0x1008 is not 16-byte");
  refused({8, good.descriptors, good.available + 1, good.used}, "not 2-byte aligned");
  refused({8, good.descriptors, good.available, good.used + 2}, "not 4-byte aligned");
  refused({8, kHole, good.available, good.used}, "descriptor table at 0x30000");
  // The used ring (6 + 8 * 8 bytes) would run from the last RAM bytes into the hole.
  refused({8, good.descriptors, good.available, kHole - 0x40}, "device area");
  // Contiguous guest RAM, but two host mappings: an area must be in one.
  refused({8, kSecondRegion - 0x40, good.available, good.used}, "descriptor table");
  EXPECT_TRUE(queue_.enable(good, false).ok());
  EXPECT_TRUE(queue_.enabled());
  EXPECT_EQ(queue_.layout().used, good.used);
  // A one-entry queue is a power of two too.
  EXPECT_TRUE(queue_.enable(FakeDriver::contiguous_layout(kRings, 1), true).ok());
  EXPECT_EQ(queue_.layout().size, 1);
}

TEST_F(QueueTest, DirectChainReadableThenWritable) {
  FakeDriver& driver = start();
  const uint16_t head =
      driver.add({{kData, 100, false}, {kData + 0x100, 50, false}, {kData + 0x1000, 200, true}});
  // Not visible until the driver publishes its idx.
  Result<std::optional<DescriptorChain>> nothing = queue_.pop();
  ASSERT_TRUE(nothing.ok());
  EXPECT_FALSE(nothing->has_value());
  driver.publish();

  const DescriptorChain chain = pop_one();
  EXPECT_EQ(chain.head, head);
  ASSERT_EQ(chain.readable.size(), 2u);
  ASSERT_EQ(chain.writable.size(), 1u);
  EXPECT_EQ(chain.readable[0].guest, kData);
  EXPECT_EQ(chain.readable[0].host, memory_.host_range(kData, 100));
  EXPECT_EQ(chain.readable[0].length, 100u);
  EXPECT_EQ(chain.readable[1].guest, kData + 0x100);
  EXPECT_EQ(chain.readable[1].length, 50u);
  EXPECT_EQ(chain.writable[0].host, memory_.host_range(kData + 0x1000, 200));
  EXPECT_EQ(chain.readable_bytes, 150u);
  EXPECT_EQ(chain.writable_bytes, 200u);
  EXPECT_EQ(queue_.last_available(), 1);

  // The device writes through the host view; the driver sees the bytes and the used length.
  std::memset(chain.writable[0].host, 0xab, 120);
  queue_.push(chain, 120);
  EXPECT_EQ(queue_.used_index(), 1);
  const std::optional<UsedElement> used = driver.next_used();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->id, head);
  EXPECT_EQ(used->len, 120u);
  EXPECT_EQ(memory_.host_page(kData + 0x1000)[119], 0xab);
  EXPECT_FALSE(driver.next_used().has_value());
  EXPECT_EQ(driver.free_descriptors(), 8);
  Result<std::optional<DescriptorChain>> empty = queue_.pop();
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has_value());
}

TEST_F(QueueTest, IndirectChain) {
  FakeDriver& driver = start();
  const uint16_t head = driver.add(
      {{kData, 16, false}, {kData + 0x200, 512, true}, {kHighRam + 0x10, 1, true}}, true);
  driver.publish();
  EXPECT_EQ(driver.free_descriptors(), 7);  // one main-table descriptor for the whole chain
  const DescriptorChain chain = pop_one();
  EXPECT_EQ(chain.head, head);
  ASSERT_EQ(chain.readable.size(), 1u);
  ASSERT_EQ(chain.writable.size(), 2u);
  EXPECT_EQ(chain.readable[0].guest, kData);
  EXPECT_EQ(chain.writable[0].length, 512u);
  EXPECT_EQ(chain.writable[1].guest, kHighRam + 0x10);
  EXPECT_EQ(chain.writable[1].host, memory_.host_range(kHighRam + 0x10, 1));
  EXPECT_EQ(chain.writable_bytes, 513u);
  queue_.push(chain, 513);
  const std::optional<UsedElement> used = driver.next_used();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->id, head);
  EXPECT_EQ(used->len, 513u);
}

TEST_F(QueueTest, DirectDescriptorsThenOneIndirect) {
  // 2.7.5.3.2: the device handles direct descriptors followed by a single indirect one.
  FakeDriver& driver = start();
  const uint64_t table = driver.allocate(32);
  driver.write_descriptor_at(table, 0, kData + 0x40, 8, 0, 0);  // readable, NEXT ignored
  driver.write_descriptor_at(table, 1, kData + 0x80, 64, kDescFlagWrite, 0);
  driver.write_descriptor_at(table, 0, kData + 0x40, 8, kDescFlagNext, 1);
  driver.write_descriptor(5, kData, 4, kDescFlagNext, 6);
  // WRITE on the descriptor that refers to a table is ignored (2.7.5.3.2).
  driver.write_descriptor(6, table, 32, kDescFlagIndirect | kDescFlagWrite, 0);
  driver.set_avail_entry(0, 5);
  driver.set_avail_idx(1);
  const DescriptorChain chain = pop_one();
  EXPECT_EQ(chain.head, 5);
  ASSERT_EQ(chain.readable.size(), 2u);
  ASSERT_EQ(chain.writable.size(), 1u);
  EXPECT_EQ(chain.readable[1].guest, kData + 0x40);
  EXPECT_EQ(chain.writable[0].length, 64u);
}

TEST_F(QueueTest, BuffersSplitAcrossRamRegions) {
  FakeDriver& driver = start();
  // 0x100 bytes before the end of the first mapping, 0x100 after it.
  driver.add({{kSecondRegion - 0x100, 0x200, false}, {kSecondRegion - 1, 2, true}});
  driver.publish();
  const DescriptorChain chain = pop_one();
  ASSERT_EQ(chain.readable.size(), 2u);
  EXPECT_EQ(chain.readable[0].guest, kSecondRegion - 0x100);
  EXPECT_EQ(chain.readable[0].length, 0x100u);
  EXPECT_EQ(chain.readable[0].host, memory_.host_range(kSecondRegion - 0x100, 0x100));
  EXPECT_EQ(chain.readable[1].guest, kSecondRegion);
  EXPECT_EQ(chain.readable[1].length, 0x100u);
  EXPECT_EQ(chain.readable[1].host, memory_.host_range(kSecondRegion, 0x100));
  ASSERT_EQ(chain.writable.size(), 2u);
  EXPECT_EQ(chain.writable[0].length, 1u);
  EXPECT_EQ(chain.writable[1].length, 1u);
  EXPECT_EQ(chain.readable_bytes, 0x200u);
  EXPECT_EQ(chain.writable_bytes, 2u);
}

TEST_F(QueueTest, ZeroLengthDescriptorsProduceNoSegment) {
  FakeDriver& driver = start();
  driver.add({{kData, 0, false}, {kData, 8, false}, {kData + 0x100, 0, true}});
  driver.publish();
  const DescriptorChain chain = pop_one();
  EXPECT_EQ(chain.readable.size(), 1u);
  EXPECT_TRUE(chain.writable.empty());
  EXPECT_EQ(chain.readable_bytes, 8u);
  EXPECT_EQ(chain.writable_bytes, 0u);
}

TEST_F(QueueTest, PushInAnyOrder) {
  FakeDriver& driver = start(8);
  uint16_t heads[3];
  for (uint32_t i = 0; i < 3; ++i) {
    heads[i] = driver.add({{kData + 0x100 * i, 8, false}, {kData + 0x1000 * (i + 1), 64, true}});
  }
  driver.publish();
  EXPECT_EQ(driver.free_descriptors(), 2);
  DescriptorChain chains[3];
  for (DescriptorChain& chain : chains) chain = pop_one();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(chains[i].head, heads[i]);
  // Completed out of order: the used ring records the device's order.
  queue_.push(chains[2], 30);
  queue_.push(chains[0], 10);
  queue_.push(chains[1], 20);
  const uint16_t expected[] = {heads[2], heads[0], heads[1]};
  const uint32_t lengths[] = {30, 10, 20};
  for (int i = 0; i < 3; ++i) {
    const std::optional<UsedElement> used = driver.next_used();
    ASSERT_TRUE(used.has_value());
    EXPECT_EQ(used->id, expected[i]);
    EXPECT_EQ(used->len, lengths[i]);
  }
  // The freed descriptors are reused for new chains, which pop correctly.
  EXPECT_EQ(driver.free_descriptors(), 8);
  for (uint32_t i = 0; i < 4; ++i) {
    driver.add({{kData + 0x10 * i, 4, false}, {kData + 0x2000, 4, true}});
  }
  driver.publish();
  for (uint32_t i = 0; i < 4; ++i) {
    const DescriptorChain chain = pop_one();
    ASSERT_EQ(chain.readable.size(), 1u);
    EXPECT_EQ(chain.readable[0].guest, kData + 0x10 * i);
  }
}

TEST_F(QueueTest, WrittenLengthIsClampedToTheWritableBytes) {
  FakeDriver& driver = start();
  driver.add({{kData, 8, false}, {kData + 0x100, 16, true}});
  driver.publish();
  queue_.push(pop_one(), 1000);
  const std::optional<UsedElement> used = driver.next_used();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->len, 16u);
}

TEST_F(QueueTest, IndicesWrapAround) {
  // More than 2^16 chains through a 4-entry queue: both free-running indices wrap.
  FakeDriver& driver = start(4);
  constexpr uint32_t kRounds = 65536 + 300;
  for (uint32_t round = 0; round < kRounds; ++round) {
    const uint16_t head = driver.add({{kData + (round % 16) * 8, 8, false}}, round % 7 == 0);
    driver.publish();
    const DescriptorChain chain = pop_one();
    ASSERT_EQ(chain.head, head) << "round " << round;
    ASSERT_EQ(chain.readable.size(), 1u);
    ASSERT_EQ(chain.readable[0].guest, kData + (round % 16) * 8);
    queue_.push(chain, 0);
    const std::optional<UsedElement> used = driver.next_used();
    ASSERT_TRUE(used.has_value());
    ASSERT_EQ(used->id, head);
  }
  EXPECT_EQ(queue_.last_available(), static_cast<uint16_t>(kRounds));
  EXPECT_EQ(queue_.used_index(), static_cast<uint16_t>(kRounds));
  EXPECT_EQ(driver.used_idx(), static_cast<uint16_t>(kRounds));
}

TEST_F(QueueTest, ResetAndDisabledQueues) {
  FakeDriver& driver = start();
  driver.add({{kData, 8, false}});
  driver.publish();
  queue_.reset();
  EXPECT_FALSE(queue_.enabled());
  EXPECT_EQ(queue_.last_available(), 0);
  Result<std::optional<DescriptorChain>> popped = queue_.pop();
  ASSERT_TRUE(popped.ok());
  EXPECT_FALSE(popped->has_value());
  EXPECT_FALSE(queue_.needs_interrupt());
}

}  // namespace
}  // namespace cella::virtio::testing
