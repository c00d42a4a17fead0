// Notification suppression both ways (virtio 1.2 2.7.7, 2.7.10), the DMA-write report of push(),
// and the queue's snapshot section.
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "tests/unit/virtio/queue_fixture.h"
#include "virtio/ring_layout.h"

namespace cella::virtio::testing {
namespace {

// 2.7.10 vring_need_event: "has the index moved past event?", across the 16-bit wrap.
static_assert(ring::need_event(0, 1, 0));
static_assert(!ring::need_event(1, 1, 0));
static_assert(ring::need_event(0xffff, 0x0001, 0xfffe));
static_assert(ring::need_event(0xfffe, 0x0000, 0xfffe));
static_assert(!ring::need_event(0x0005, 0x0001, 0xfffe));
static_assert(!ring::need_event(0xfffd, 0x0001, 0xfffe));

class NotifyTest : public QueueTest {
 protected:
  // Adds, pops and pushes one chain.
  void complete_one() {
    driver_->add({{kData, 8, false}, {kData + 0x100, 8, true}});
    driver_->publish();
    queue_.push(pop_one(), 8);
    ASSERT_TRUE(driver_->next_used().has_value());
  }
};

TEST_F(NotifyTest, NoInterruptFlagWithoutEventIdx) {
  start(8, false);
  EXPECT_FALSE(queue_.needs_interrupt());  // nothing pushed yet
  complete_one();
  EXPECT_TRUE(queue_.needs_interrupt());
  EXPECT_FALSE(queue_.needs_interrupt());  // nothing pushed since
  driver_->set_no_interrupt(true);
  complete_one();
  EXPECT_FALSE(queue_.needs_interrupt());
  driver_->set_no_interrupt(false);
  EXPECT_TRUE(queue_.needs_interrupt());  // the chain pushed while suppressed is still owed
  EXPECT_FALSE(queue_.needs_interrupt());
}

TEST_F(NotifyTest, UsedEventWithEventIdx) {
  start(8, true);
  EXPECT_FALSE(queue_.needs_interrupt());  // nothing pushed yet
  complete_one();                          // used idx 1
  EXPECT_TRUE(queue_.needs_interrupt());
  // The driver wants an interrupt once the used idx moves past 2.
  driver_->set_used_event(2);
  complete_one();  // used idx 2: not past 2 yet
  EXPECT_FALSE(queue_.needs_interrupt());
  complete_one();  // used idx 3
  EXPECT_TRUE(queue_.needs_interrupt());
  EXPECT_FALSE(queue_.needs_interrupt());
  // used_event behind the last interrupt: already signalled, nothing more.
  driver_->set_used_event(1);
  complete_one();
  EXPECT_FALSE(queue_.needs_interrupt());
  // The flag means nothing with EVENT_IDX (2.7.7 applies without it only).
  driver_->set_used_event(4);
  driver_->set_no_interrupt(true);
  complete_one();  // used idx 5: past 4 since the last interrupt at 3
  EXPECT_TRUE(queue_.needs_interrupt());
}

TEST_F(NotifyTest, UsedEventAcrossTheIndexWrap) {
  start(2, true);
  for (int i = 0; i < 65534; ++i) complete_one();
  EXPECT_TRUE(queue_.needs_interrupt());  // used idx 0xfffe
  driver_->set_used_event(0xffff);
  complete_one();  // 0xffff
  EXPECT_FALSE(queue_.needs_interrupt());
  complete_one();  // 0x0000: moved past 0xffff
  EXPECT_TRUE(queue_.needs_interrupt());
}

TEST_F(NotifyTest, NoNotifyFlagWithoutEventIdx) {
  start(8, false);
  EXPECT_EQ(driver_->used_flags(), 0);
  queue_.set_notifications(false);
  EXPECT_EQ(driver_->used_flags(), kUsedFlagNoNotify);
  queue_.set_notifications(true);
  EXPECT_EQ(driver_->used_flags(), 0);
}

TEST_F(NotifyTest, AvailEventWithEventIdx) {
  start(8, true);
  for (int i = 0; i < 3; ++i) driver_->add({{kData, 8, false}});
  driver_->publish();
  // Enabling asks for a notification on the buffer after the ones already there.
  queue_.set_notifications(true);
  EXPECT_EQ(driver_->avail_event(), 3);
  EXPECT_EQ(driver_->used_flags(), 0);  // EVENT_IDX does not use the flag
  // While notifications are wanted, each pop keeps avail_event at the device's position.
  pop_one();
  EXPECT_EQ(driver_->avail_event(), 1);
  // Suppressed: avail_event stays behind, so the driver stops notifying.
  queue_.set_notifications(false);
  pop_one();
  EXPECT_EQ(driver_->avail_event(), 1);
  EXPECT_EQ(driver_->used_flags(), 0);
  queue_.set_notifications(true);
  EXPECT_EQ(driver_->avail_event(), 3);
}

TEST_F(NotifyTest, PushReportsTheWrittenBytesAsDma) {
  std::vector<std::pair<uint64_t, uint64_t>> writes;
  memory_.set_dma_write_observer(
      [&](uint64_t physical, uint64_t size) { writes.emplace_back(physical, size); });
  start(8);
  driver_->add({{kData, 64, false},
                {kData + 0x1000, 100, true},
                {kSecondRegion - 0x80, 0x100, true},  // two segments
                {kData + 0x3000, 0x10, true}});
  driver_->publish();
  queue_.push(pop_one(), 100 + 0x90);
  // Only the writable bytes the device says it wrote, segment by segment; nothing readable.
  const std::vector<std::pair<uint64_t, uint64_t>> expected = {
      {kData + 0x1000, 100}, {kSecondRegion - 0x80, 0x80}, {kSecondRegion, 0x10}};
  EXPECT_EQ(writes, expected);
  writes.clear();
  driver_->add({{kData, 64, false}, {kData + 0x1000, 100, true}});
  driver_->publish();
  queue_.push(pop_one(), 0);
  EXPECT_TRUE(writes.empty());
}

TEST_F(NotifyTest, SaveLoadRoundTrip) {
  start(8, true);
  for (int i = 0; i < 5; ++i) complete_one();
  EXPECT_TRUE(queue_.needs_interrupt());
  driver_->add({{kData + 0x40, 8, false}});
  driver_->add({{kData + 0x80, 8, false}});
  driver_->publish();
  const DescriptorChain in_flight = pop_one();  // popped before the snapshot, pushed after
  queue_.set_notifications(false);

  snapshot::StateWriter out;
  queue_.save(out);
  Virtqueue restored(memory_);
  snapshot::StateReader in(out.data());
  ASSERT_TRUE(restored.load(in).ok());
  EXPECT_TRUE(in.at_end());
  EXPECT_TRUE(restored.enabled());
  EXPECT_EQ(restored.layout().available, queue_.layout().available);
  EXPECT_EQ(restored.last_available(), 6);
  EXPECT_EQ(restored.used_index(), 5);
  EXPECT_FALSE(restored.needs_interrupt());  // signalled at 5 before the snapshot

  // The restored queue carries on where the original stopped.
  Result<std::optional<DescriptorChain>> next = restored.pop();
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((*next)->readable[0].guest, kData + 0x80);
  EXPECT_EQ(driver_->avail_event(), 6);  // set by the last pop before notifications went off
  driver_->set_used_event(5);
  restored.push(in_flight, 0);
  EXPECT_EQ(driver_->next_used()->id, in_flight.head);
  EXPECT_TRUE(restored.needs_interrupt());

  // A disabled queue round-trips as disabled.
  snapshot::StateWriter off;
  Virtqueue(memory_).save(off);
  snapshot::StateReader off_in(off.data());
  ASSERT_TRUE(restored.load(off_in).ok());
  EXPECT_FALSE(restored.enabled());
  EXPECT_EQ(restored.used_index(), 0);
}

TEST_F(NotifyTest, LoadRefusesLayoutsOutsideRamAndBadStreams) {
  start(8);
  snapshot::StateWriter out;
  queue_.save(out);
  // The same state into a machine whose RAM does not cover the rings.
  memory::GuestMemory small;
  ASSERT_TRUE(small.add_ram(0, 0x1000).ok());
  Virtqueue elsewhere(small);
  snapshot::StateReader in(out.data());
  const Result<void> r = elsewhere.load(in);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("virtqueue state: virtqueue: descriptor table at 0x1000"),
            std::string::npos)
      << r.error().message();
  EXPECT_FALSE(elsewhere.enabled());

  // A truncated section is refused and leaves the queue as it was.
  std::vector<uint8_t> truncated = out.data();
  truncated.resize(truncated.size() - 3);
  snapshot::StateReader short_in(truncated);
  Virtqueue other(memory_);
  EXPECT_FALSE(other.load(short_in).ok());
  EXPECT_FALSE(other.enabled());
}

}  // namespace
}  // namespace cella::virtio::testing
