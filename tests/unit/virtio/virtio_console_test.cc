// virtio-console, single port (virtio 1.2 5.3): transmitq bytes reach the backend in order,
// receiveq buffers take the backend's bytes with flow control (devices::CharInputQueue),
// emerg_wr writes a byte through the configuration space, and a break is consumed.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "devices/chardev.h"
#include "tests/unit/virtio/pci_fixture.h"
#include "virtio/console/virtio_console.h"

namespace cella::virtio::testing {
namespace {

using console_spec::kReceiveQueue;
using console_spec::kTransmitQueue;

class RecordingBackend final : public devices::CharBackend {
 public:
  void transmit(uint8_t byte) override { bytes.push_back(static_cast<char>(byte)); }
  std::string bytes;
};

std::vector<uint8_t> bytes_of(std::string_view text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

class ConsoleTest : public PciDeviceTest {
 protected:
  void SetUp() override {
    PciDeviceTest::SetUp();
    attach(console_);
  }
  // Receive buffers of `sizes` bytes each, at kDataArea + 0x100 * i; returns their heads.
  std::vector<uint16_t> post_receive(std::initializer_list<uint32_t> sizes, bool notify = true) {
    std::vector<uint16_t> heads;
    for (uint32_t size : sizes) {
      const uint64_t at = kDataArea + 0x100 * posted_++;
      fill(at, size, 0);
      heads.push_back(driver_->queue(kReceiveQueue).add({{at, size, true}}));
    }
    driver_->queue(kReceiveQueue).publish();
    if (notify) driver_->notify(kReceiveQueue);
    return heads;
  }
  // The bytes the device wrote into the used receive buffers, in used order.
  std::string received() {
    std::string text;
    for (const UsedElement& e : used(kReceiveQueue)) {
      const auto it = addresses_.find(e.id);
      const uint64_t at = it != addresses_.end() ? it->second : 0;
      const std::vector<uint8_t> bytes = get(at, e.len);
      text.append(bytes.begin(), bytes.end());
    }
    return text;
  }
  void remember(const std::vector<uint16_t>& heads, unsigned first) {
    for (size_t i = 0; i < heads.size(); ++i)
      addresses_[heads[i]] = kDataArea + 0x100 * (first + i);
  }

  RecordingBackend backend_;
  VirtioConsole console_{&backend_};
  unsigned posted_ = 0;
  std::map<uint16_t, uint64_t> addresses_;
};

TEST_F(ConsoleTest, OffersEmergencyWriteAndTwoQueues) {
  EXPECT_NE(driver_->device_features() & feature_bit(console_spec::kFeatureEmergencyWrite), 0u);
  EXPECT_EQ(driver_->num_queues(), 2u);
  EXPECT_EQ(driver_->read_device_config(console_spec::kConfigMaxPorts, 4), 0u);
}

TEST_F(ConsoleTest, TransmitReachesTheBackendInOrder) {
  bring_up(2);
  FakeDriver& tx = driver_->queue(kTransmitQueue);
  put(kDataArea, bytes_of("hello, "));
  put(kDataArea + 0x800, bytes_of("world"));
  put(kDataArea + 0x1000, bytes_of("!\n"));
  const uint16_t a = tx.add({{kDataArea, 7, false}});
  const uint16_t b = tx.add({{kDataArea + 0x800, 3, false}, {kDataArea + 0x803, 2, false}}, true);
  const uint16_t c = tx.add({{kDataArea + 0x1000, 2, false}});
  tx.publish();
  driver_->notify(kTransmitQueue);
  EXPECT_EQ(backend_.bytes, "hello, world!\n");
  const std::vector<UsedElement> done = used(kTransmitQueue);
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done[0].id, a);
  EXPECT_EQ(done[1].id, b);
  EXPECT_EQ(done[2].id, c);
  for (const UsedElement& e : done) EXPECT_EQ(e.len, 0u);  // nothing written to the guest
  EXPECT_EQ(console_.metrics().transmitted_bytes, 14u);
}

TEST_F(ConsoleTest, InputWaitsForBuffersAndArrivesWhole) {
  devices::CharInputQueue input(console_);
  input.push(bytes_of("early"));  // before the driver exists
  EXPECT_EQ(input.pending(), 5u);
  bring_up(2);
  EXPECT_EQ(input.pending(), 5u);  // no receive buffers yet

  // Three small buffers: 2 + 2 + 1 bytes of "early", nothing left over.
  remember(post_receive({2, 2, 4}), 0);
  EXPECT_EQ(input.pending(), 0u);
  EXPECT_EQ(received(), "early");

  // More input than room: the rest waits, in order, until the next buffers arrive.
  input.push(bytes_of("0123456789"));
  EXPECT_EQ(input.pending(), 10u);
  remember(post_receive({3}), 3);
  EXPECT_EQ(input.pending(), 7u);
  remember(post_receive({4, 8}), 4);
  EXPECT_EQ(input.pending(), 0u);
  EXPECT_EQ(received(), "0123456789");
  EXPECT_EQ(console_.metrics().received_bytes, 15u);
}

TEST_F(ConsoleTest, BuffersPostedBeforeDriverOkTakeEarlyInput) {
  devices::CharInputQueue input(console_);
  input.push(bytes_of("boot"));
  ASSERT_TRUE(driver_->negotiate_offered(0));
  driver_->setup_queue(kReceiveQueue, queue_base(0));
  driver_->setup_queue(kTransmitQueue, queue_base(1));
  remember(post_receive({16}, /*notify=*/false), 0);
  driver_->driver_ok();
  EXPECT_EQ(input.pending(), 0u);
  EXPECT_EQ(received(), "boot");
}

TEST_F(ConsoleTest, EmergencyWriteSendsTheLowByte) {
  // 5.3.4: usable before the queues exist, even before DRIVER_OK.
  driver_->write_device_config(console_spec::kConfigEmergencyWrite, 0x4241, 4);
  driver_->write_device_config(console_spec::kConfigEmergencyWrite, '\n', 4);
  EXPECT_EQ(backend_.bytes, "A\n");
  EXPECT_EQ(console_.metrics().emergency_bytes, 2u);
  // Writes to the other fields send nothing.
  driver_->write_device_config(console_spec::kConfigCols, 0x41, 2);
  EXPECT_EQ(backend_.bytes, "A\n");
}

TEST_F(ConsoleTest, BreakIsConsumedWithoutBytes) {
  devices::CharInputQueue input(console_);
  bring_up(2);
  input.push(bytes_of("a"));
  input.push_break();
  input.push(bytes_of("b"));
  EXPECT_EQ(input.pending(), 3u);
  remember(post_receive({1, 1, 1}), 0);
  EXPECT_EQ(input.pending(), 0u);
  EXPECT_EQ(received(), "ab");
  EXPECT_EQ(driver_->queue(kReceiveQueue).used_idx(), 2u);  // the third buffer is still free
}

TEST_F(ConsoleTest, ResetStopsTheReceivePath) {
  devices::CharInputQueue input(console_);
  bring_up(2);
  driver_->set_status(0);
  input.push(bytes_of("x"));
  EXPECT_EQ(input.pending(), 1u);
}

}  // namespace
}  // namespace cella::virtio::testing
