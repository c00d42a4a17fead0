// Interrupts of the virtio PCI transport (virtio 1.2 4.1.5.1.2 and 4.1.4.5): MSI-X vectors per
// queue and for configuration changes through the table's masks and pending bits, INTx with
// the ISR and the command register's Interrupt Disable bit, notification suppression, and the
// configuration interrupt that tells the driver DEVICE_NEEDS_RESET.
#include <gtest/gtest.h>

#include "tests/unit/virtio/pci_fixture.h"
#include "virtio/console/virtio_console.h"
#include "virtio/rng/virtio_rng.h"

namespace cella::virtio::testing {
namespace {

class InterruptTest : public PciDeviceTest {
 protected:
  // One transmit buffer on the console's transmitq, made available and rung.
  void transmit(char byte = 'x') {
    put(kDataArea, std::vector<uint8_t>{static_cast<uint8_t>(byte)});
    driver_->queue(console_spec::kTransmitQueue).add({{kDataArea, 1, false}});
    driver_->queue(console_spec::kTransmitQueue).publish();
    driver_->notify(console_spec::kTransmitQueue);
  }
  // One rng request on queue 0, made available and rung.
  void request_random() {
    driver_->queue(0).add({{kDataArea, 16, true}});
    driver_->queue(0).publish();
    driver_->notify(0);
  }

  VirtioConsole console_{nullptr};
  VirtioRng rng_;
};

TEST_F(InterruptTest, EachQueueRaisesItsOwnVector) {
  attach(console_);
  ASSERT_TRUE(driver_->negotiate_offered(0));
  driver_->enable_msix();
  // Crossed on purpose: receiveq on vector 2, transmitq on vector 0.
  driver_->setup_queue(console_spec::kReceiveQueue, queue_base(0), 0, 2);
  driver_->setup_queue(console_spec::kTransmitQueue, queue_base(1), 0, 0);
  driver_->driver_ok();

  transmit();
  EXPECT_EQ(msi_.messages.size(), 1u);
  EXPECT_EQ(messages_for(0), 1u);
  const uint8_t byte = 'y';
  EXPECT_EQ(console_.receive({&byte, 1}), 0u);  // no receive buffer yet: nothing taken
  driver_->queue(console_spec::kReceiveQueue).add({{kDataArea + 0x100, 8, true}});
  driver_->queue(console_spec::kReceiveQueue).publish();
  EXPECT_EQ(console_.receive({&byte, 1}), 1u);
  EXPECT_EQ(messages_for(2), 1u);
  EXPECT_EQ(msi_.messages.size(), 2u);
  // MSI-X is on: the ISR and the pin stay quiet.
  EXPECT_FALSE(intx_level());
  EXPECT_EQ(driver_->read_isr(), 0u);
}

TEST_F(InterruptTest, MaskedVectorIsPendingUntilUnmasked) {
  attach(rng_);
  bring_up(1, 0, /*msix=*/true);
  driver_->mask_vector(0, true);
  request_random();
  EXPECT_TRUE(msi_.messages.empty());
  EXPECT_TRUE(driver_->vector_pending(0));
  driver_->mask_vector(0, false);
  EXPECT_EQ(messages_for(0), 1u);
  EXPECT_FALSE(driver_->vector_pending(0));

  // The function mask holds every vector the same way.
  driver_->set_msix_control(true, /*function_mask=*/true);
  request_random();
  EXPECT_EQ(messages_for(0), 1u);
  EXPECT_TRUE(driver_->vector_pending(0));
  driver_->set_msix_control(true, false);
  EXPECT_EQ(messages_for(0), 2u);
}

TEST_F(InterruptTest, NoVectorMeansNoInterrupt) {
  attach(rng_);
  ASSERT_TRUE(driver_->negotiate_offered(0));
  driver_->enable_msix();
  driver_->setup_queue(0, queue_base(0), 0, pci_layout::kNoVector);
  driver_->driver_ok();
  request_random();
  EXPECT_EQ(used(0).size(), 1u);
  EXPECT_TRUE(msi_.messages.empty());
  EXPECT_FALSE(intx_level());
}

TEST_F(InterruptTest, VectorsBeyondTheTableReadNoVector) {
  attach(rng_);  // two vectors: queue 0 and configuration
  driver_->write_common(common::kConfigMsixVector, 1, 2);
  EXPECT_EQ(driver_->read_common(common::kConfigMsixVector, 2), 1u);
  driver_->write_common(common::kConfigMsixVector, 2, 2);
  EXPECT_EQ(driver_->read_common(common::kConfigMsixVector, 2), pci_layout::kNoVector);
  driver_->select_queue(0);
  driver_->write_common(common::kQueueMsixVector, 1, 2);
  EXPECT_EQ(driver_->read_common(common::kQueueMsixVector, 2), 1u);
  driver_->write_common(common::kQueueMsixVector, 0x7ff, 2);
  EXPECT_EQ(driver_->read_common(common::kQueueMsixVector, 2), pci_layout::kNoVector);
}

TEST_F(InterruptTest, IntxFollowsTheIsrAndReadingItClears) {
  attach(rng_);
  bring_up(1);
  EXPECT_FALSE(intx_level());
  request_random();
  EXPECT_TRUE(intx_level());
  EXPECT_NE(driver_->config_read(pci::reg::kStatus, 2) & pci::kStatusInterrupt, 0u);
  EXPECT_EQ(driver_->read_isr(), pci_layout::kIsrQueue);
  EXPECT_FALSE(intx_level());
  EXPECT_EQ(driver_->config_read(pci::reg::kStatus, 2) & pci::kStatusInterrupt, 0u);
  EXPECT_EQ(driver_->read_isr(), 0u);  // read-clear
  request_random();
  EXPECT_TRUE(intx_level());
  EXPECT_EQ(intx_.raises[kIntxGsi], 2u);
}

TEST_F(InterruptTest, InterruptDisableGatesThePinNotTheRequest) {
  attach(rng_);
  bring_up(1);
  const uint16_t command = static_cast<uint16_t>(driver_->config_read(pci::reg::kCommand, 2));
  driver_->config_write(pci::reg::kCommand, 2, command | pci::kCommandInterruptDisable);
  request_random();
  EXPECT_FALSE(intx_level());
  // PCI 3.0 6.2.3: Interrupt Status shows the request regardless of the disable bit.
  EXPECT_NE(driver_->config_read(pci::reg::kStatus, 2) & pci::kStatusInterrupt, 0u);
  driver_->config_write(pci::reg::kCommand, 2, command);
  EXPECT_TRUE(intx_level());
  EXPECT_EQ(driver_->read_isr(), pci_layout::kIsrQueue);
  EXPECT_FALSE(intx_level());
}

TEST_F(InterruptTest, EnablingMsixLowersAPendingIntx) {
  attach(rng_);
  bring_up(1);
  request_random();
  ASSERT_TRUE(intx_level());
  driver_->enable_msix();
  EXPECT_FALSE(intx_level());
}

TEST_F(InterruptTest, EventIdxSuppressesUntilUsedEventIsPassed) {
  attach(rng_);
  bring_up(1, feature_bit(feature::kEventIndex), /*msix=*/true);
  FakeDriver& queue = driver_->queue(0);
  request_random();
  EXPECT_EQ(messages_for(0), 1u);  // nothing signalled yet: the first always goes out
  queue.set_used_event(10);
  request_random();
  request_random();
  EXPECT_EQ(messages_for(0), 1u);
  EXPECT_EQ(transport_->metrics().suppressed_interrupts, 2u);
  // 2.7.10: "interrupt me when the used idx passes 3", and the 4th used entry does.
  queue.set_used_event(3);
  request_random();
  EXPECT_EQ(messages_for(0), 2u);
  EXPECT_EQ(queue.used_idx(), 4u);
}

TEST_F(InterruptTest, NoInterruptFlagSuppressesWithoutEventIdx) {
  attach(rng_);
  bring_up(1);
  driver_->queue(0).set_no_interrupt(true);
  request_random();
  EXPECT_FALSE(intx_level());
  EXPECT_EQ(driver_->queue(0).used_idx(), 1u);
  driver_->queue(0).set_no_interrupt(false);
  request_random();
  EXPECT_TRUE(intx_level());
}

TEST_F(InterruptTest, RingOutsideRamNeedsResetAndRaisesTheConfigVector) {
  attach(rng_);
  ASSERT_TRUE(driver_->negotiate_offered(0));
  driver_->enable_msix();
  driver_->write_common(common::kConfigMsixVector, 1, 2);
  driver_->driver_ok();
  QueueLayout outside = FakeDriver::contiguous_layout(queue_base(0), 16);
  outside.used = kRamSize + 0x1000;
  driver_->select_queue(0);
  driver_->configure_queue(outside, 0);
  driver_->write_common(common::kQueueEnable, 1, 2);
  EXPECT_NE(driver_->status() & status::kDeviceNeedsReset, 0);
  EXPECT_EQ(driver_->read_common(common::kQueueEnable, 2), 0u);
  EXPECT_EQ(messages_for(1), 1u);
  EXPECT_FALSE(transport_->last_error().empty());
  // The driver cannot clear the bit; a reset does.
  driver_->set_status(driver_->status() & ~status::kDeviceNeedsReset);
  EXPECT_NE(driver_->status() & status::kDeviceNeedsReset, 0);
  driver_->set_status(0);
  EXPECT_EQ(driver_->status(), 0u);
}

TEST_F(InterruptTest, NeedsResetBeforeDriverOkIsAnnouncedAtDriverOk) {
  attach(rng_);
  ASSERT_TRUE(driver_->negotiate_offered(0));
  QueueLayout outside = FakeDriver::contiguous_layout(kRamSize - 0x100, 16);
  driver_->select_queue(0);
  driver_->configure_queue(outside);
  driver_->write_common(common::kQueueEnable, 1, 2);
  ASSERT_NE(driver_->status() & status::kDeviceNeedsReset, 0);
  EXPECT_FALSE(intx_level());  // 2.1.2: no notification before DRIVER_OK
  driver_->driver_ok();
  // 2.1.2: with DRIVER_OK set and DEVICE_NEEDS_RESET set, the driver hears about it.
  EXPECT_TRUE(intx_level());
  EXPECT_EQ(driver_->read_isr(), pci_layout::kIsrConfig);
}

TEST_F(InterruptTest, MalformedChainAfterDriverOkRaisesTheConfigInterrupt) {
  attach(rng_);
  bring_up(1);
  FakeDriver& queue = driver_->queue(0);
  // A descriptor that chains to itself.
  queue.write_descriptor(0, kDataArea, 16, kDescFlagWrite | kDescFlagNext, 0);
  queue.set_avail_entry(0, 0);
  queue.set_avail_idx(1);
  driver_->notify(0);
  EXPECT_NE(driver_->status() & status::kDeviceNeedsReset, 0);
  EXPECT_EQ(driver_->read_isr(), pci_layout::kIsrConfig);
  EXPECT_EQ(transport_->metrics().device_errors, 1u);
  // Later doorbells are not heard until the reset.
  driver_->notify(0);
  EXPECT_EQ(transport_->metrics().device_errors, 1u);
  EXPECT_EQ(queue.used_idx(), 0u);
}

TEST_F(InterruptTest, ConfigChangeBumpsTheGenerationAndInterrupts) {
  attach(rng_);
  bring_up(1, 0, /*msix=*/true);
  driver_->write_common(common::kConfigMsixVector, 1, 2);
  const uint64_t generation = driver_->read_common(common::kConfigGeneration, 1);
  transport_->config_changed();
  EXPECT_EQ(driver_->read_common(common::kConfigGeneration, 1), (generation + 1) & 0xff);
  EXPECT_EQ(messages_for(1), 1u);
}

}  // namespace
}  // namespace cella::virtio::testing
