// virtio-blk across its life: completions of requests that were in flight when the driver
// reset the device are dropped (virtio 1.2 2.4), requests run in order on a real I/O thread, and
// a device brought up again after a reset serves requests from its new rings.
#include <gtest/gtest.h>

#include "tests/unit/block/image_test_support.h"
#include "tests/unit/virtio/blk_fixture.h"

namespace cella::virtio::testing {
namespace {

using blk_spec::RequestType;
using blk_spec::Status;
using block::testing::pattern;

class BlkLifecycleTest : public BlkTest {};

TEST_F(BlkLifecycleTest, CompletionsAfterAResetAreDropped) {
  start();
  ASSERT_TRUE(image_->write(0, pattern(0, 512, 5)).ok());
  fill(kBuffers, 512, 0);
  add({RequestType::kIn, 0, {{kBuffers, 512, true}}});
  driver_->notify(0);  // the work ran; its completion waits on the completion queue
  EXPECT_EQ(blk_->metrics().in_flight, 1u);
  driver_->set_status(0);
  EXPECT_EQ(completions_->run_posted(), 1u);
  EXPECT_EQ(driver_->queue(0).used_idx(), 0u);
  EXPECT_EQ(get(status_at(0), 1)[0], kStatusUnset);
  EXPECT_EQ(blk_->metrics().in_flight, 0u);
  EXPECT_EQ(blk_->metrics().reads, 0u);
  EXPECT_FALSE(intx_level());

  // Brought up again on new rings, the device serves the new driver.
  bring_up(1);
  const Done done = run({RequestType::kIn, 0, {{kBuffers, 512, true}}});
  EXPECT_EQ(done.status, status_of(Status::kOk));
  EXPECT_EQ(get(kBuffers, 512), pattern(0, 512, 5));
  EXPECT_EQ(driver_->queue(0).used_idx(), 1u);
}

TEST_F(BlkLifecycleTest, RequestsCompleteInOrderOnAnIoThread) {
  devices::IoThread thread("blk-test", *completions_);
  start({}, false, &thread);
  const std::vector<uint8_t> first = pattern(0, 4096, 1);
  const std::vector<uint8_t> second = pattern(0, 4096, 2);
  put(kBuffers, first);
  put(kBuffers + 0x1000, second);
  // write A, read, write B, read, flush: each read sees the write just before it.
  const BlkCall calls[] = {
      {RequestType::kOut, 16, {{kBuffers, 4096, false}}, false, 0},
      {RequestType::kIn, 16, {{kBuffers + 0x2000, 4096, true}}, false, 1},
      {RequestType::kOut, 16, {{kBuffers + 0x1000, 4096, false}}, false, 2},
      {RequestType::kIn, 16, {{kBuffers + 0x3000, 4096, true}}, false, 3},
      {RequestType::kFlush, 0, {}, false, 4},
  };
  std::vector<uint32_t> heads;
  for (const BlkCall& call : calls) heads.push_back(add(call));
  driver_->notify(0);
  thread.wait_idle();
  EXPECT_EQ(completions_->run_posted(), std::size(calls));

  const std::vector<UsedElement> done = used(0);
  ASSERT_EQ(done.size(), std::size(calls));
  for (size_t i = 0; i < done.size(); ++i) {
    EXPECT_EQ(done[i].id, heads[i]) << i;
    EXPECT_EQ(get(status_at(static_cast<unsigned>(i)), 1)[0], status_of(Status::kOk)) << i;
  }
  EXPECT_EQ(done[1].len, 4096u + 1);
  EXPECT_EQ(get(kBuffers + 0x2000, 4096), first);
  EXPECT_EQ(get(kBuffers + 0x3000, 4096), second);
  EXPECT_EQ(disk(16 * 512, 4096), second);
  EXPECT_EQ(image_->flushes, 1u);
}

TEST_F(BlkLifecycleTest, DeviceErrorStopsTheQueueUntilReset) {
  start();
  // A chain pointing outside RAM.
  driver_->queue(0).add({{kRamSize + 0x1000, 16, false}, {status_at(0), 1, true}});
  driver_->queue(0).publish();
  driver_->notify(0);
  EXPECT_NE(driver_->status() & status::kDeviceNeedsReset, 0);
  EXPECT_EQ(driver_->queue(0).used_idx(), 0u);
  bring_up(1);
  EXPECT_EQ(run({RequestType::kFlush, 0, {}}).status, status_of(Status::kOk));
}

}  // namespace
}  // namespace cella::virtio::testing
