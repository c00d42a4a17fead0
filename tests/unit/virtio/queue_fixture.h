// The guest memory and queue that the virtqueue tests share: RAM at [0, 0x20000), a second
// mapping right after it at [0x20000, 0x30000) (contiguous to the guest, separate on the host),
// a hole, and RAM above 4 GiB.
#pragma once

#include <gtest/gtest.h>

#include <optional>

#include "tests/unit/virtio/fake_driver.h"
#include "virtio/virtqueue.h"

namespace cella::virtio::testing {

inline constexpr uint64_t kRings = 0x1000;
inline constexpr uint64_t kHeap = 0x8000;  // indirect tables
inline constexpr uint64_t kHeapSize = 0x8000;
inline constexpr uint64_t kData = 0x10000;  // buffers
inline constexpr uint64_t kSecondRegion = 0x20000;
inline constexpr uint64_t kHole = 0x30000;
inline constexpr uint64_t kHighRam = 0x100000000;

class QueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(memory_.add_ram(0, kSecondRegion).ok());
    ASSERT_TRUE(memory_.add_ram(kSecondRegion, kHole - kSecondRegion).ok());
    ASSERT_TRUE(memory_.add_ram(kHighRam, 0x10000).ok());
  }

  // Enables a queue of `size` entries with the contiguous layout at kRings.
  FakeDriver& start(uint16_t size = 8, bool event_idx = false) {
    const QueueLayout layout = FakeDriver::contiguous_layout(kRings, size);
    driver_.emplace(memory_, layout, kHeap, kHeapSize);
    EXPECT_TRUE(queue_.enable(layout, event_idx).ok());
    return *driver_;
  }

  // Pops one chain that must be there.
  DescriptorChain pop_one() {
    Result<std::optional<DescriptorChain>> popped = queue_.pop();
    EXPECT_TRUE(popped.ok()) << (popped.ok() ? "" : popped.error().message());
    if (!popped.ok() || !popped->has_value()) {
      ADD_FAILURE() << "no chain available";
      return {};
    }
    return std::move(**popped);
  }

  // Pops expecting a driver error whose message contains `needle`; the queue does not advance.
  void expect_pop_error(std::string_view needle) {
    const uint16_t before = queue_.last_available();
    Result<std::optional<DescriptorChain>> popped = queue_.pop();
    ASSERT_FALSE(popped.ok()) << "expected an error containing \"" << needle << "\"";
    EXPECT_NE(popped.error().message().find(needle), std::string::npos) << popped.error().message();
    EXPECT_EQ(queue_.last_available(), before);
  }

  memory::GuestMemory memory_;
  Virtqueue queue_{memory_};
  std::optional<FakeDriver> driver_;
};

}  // namespace cella::virtio::testing
