// virtio-rng (virtio 1.2 5.4): device-writable buffers are filled with host randomness, the
// used length says how much, one request gives at most 64 KiB, and a malformed chain is a driver
// error.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/unit/virtio/pci_fixture.h"
#include "virtio/rng/virtio_rng.h"

namespace cella::virtio::testing {
namespace {

class RngTest : public PciDeviceTest {
 protected:
  void SetUp() override {
    PciDeviceTest::SetUp();
    attach(rng_);
    bring_up(1);
  }
  UsedElement request(std::initializer_list<Buffer> buffers) {
    const uint16_t head = driver_->queue(0).add(buffers);
    driver_->queue(0).publish();
    driver_->notify(0);
    const std::vector<UsedElement> done = used(0);
    EXPECT_EQ(done.size(), 1u);
    if (done.empty()) return {};
    EXPECT_EQ(done[0].id, head);
    return done[0];
  }

  VirtioRng rng_;
};

bool all_zero(const std::vector<uint8_t>& bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

TEST_F(RngTest, FillsTheBufferAndReportsItsLength) {
  EXPECT_EQ(driver_->device_features() & 0xffffff, 0u);  // no device features
  fill(kDataArea, 128, 0);
  const UsedElement done = request({{kDataArea, 64, true}});
  EXPECT_EQ(done.len, 64u);
  const std::vector<uint8_t> first = get(kDataArea, 64);
  EXPECT_FALSE(all_zero(first));                   // 2^-512 odds of a false failure
  EXPECT_TRUE(all_zero(get(kDataArea + 64, 64)));  // nothing past the buffer

  fill(kDataArea, 64, 0);
  EXPECT_EQ(request({{kDataArea, 64, true}}).len, 64u);
  EXPECT_NE(get(kDataArea, 64), first);  // a fresh draw each time
  EXPECT_EQ(rng_.metrics().requests, 2u);
  EXPECT_EQ(rng_.metrics().bytes, 128u);
}

TEST_F(RngTest, FillsEverySegmentOfAChain) {
  fill(kDataArea, 0x2000, 0);
  const UsedElement done = request({{kDataArea, 32, true}, {kDataArea + 0x1000, 48, true}});
  EXPECT_EQ(done.len, 80u);
  EXPECT_FALSE(all_zero(get(kDataArea, 32)));
  EXPECT_FALSE(all_zero(get(kDataArea + 0x1000, 48)));
}

TEST_F(RngTest, ReadableBuffersAreLeftAlone) {
  fill(kDataArea, 64, 0);
  const UsedElement done = request({{kDataArea, 64, false}});
  EXPECT_EQ(done.len, 0u);
  EXPECT_TRUE(all_zero(get(kDataArea, 64)));
}

TEST_F(RngTest, LargeRequestsAreCappedAt64KiB) {
  constexpr uint32_t kAsk = 0x18000;  // 96 KiB from 0x60000
  constexpr uint64_t kAt = 0x60000;
  fill(kAt, kAsk, 0);
  const UsedElement done = request({{kAt, kAsk, true}});
  EXPECT_EQ(done.len, VirtioRng::kMaxBytesPerRequest);
  EXPECT_FALSE(all_zero(get(kAt + VirtioRng::kMaxBytesPerRequest - 64, 64)));
  EXPECT_TRUE(
      all_zero(get(kAt + VirtioRng::kMaxBytesPerRequest, kAsk - VirtioRng::kMaxBytesPerRequest)));
}

TEST_F(RngTest, MalformedChainIsADriverError) {
  FakeDriver& queue = driver_->queue(0);
  // A writable descriptor followed by a readable one (2.7.4.2 forbids it).
  queue.write_descriptor(0, kDataArea, 16, kDescFlagWrite | kDescFlagNext, 1);
  queue.write_descriptor(1, kDataArea + 16, 16, 0, 0);
  queue.set_avail_entry(0, 0);
  queue.set_avail_idx(1);
  driver_->notify(0);
  EXPECT_NE(driver_->status() & status::kDeviceNeedsReset, 0);
  EXPECT_EQ(queue.used_idx(), 0u);
  EXPECT_EQ(rng_.metrics().requests, 0u);
  EXPECT_EQ(driver_->read_isr(), pci_layout::kIsrConfig);
}

}  // namespace
}  // namespace cella::virtio::testing
