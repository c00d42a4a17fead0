// The virtio PCI transport (virtio 1.2 4.1) as a driver sees it: identity, capabilities,
// feature negotiation, queue setup, reset, activation and snapshots. The devices behind it are
// virtio-rng (one queue, no configuration) and virtio-console (two queues).
#include <gtest/gtest.h>

#include "snapshot/state_stream.h"
#include "tests/unit/virtio/pci_fixture.h"
#include "virtio/console/virtio_console.h"
#include "virtio/rng/virtio_rng.h"

namespace cella::virtio::testing {
namespace {

using pci_layout::CfgType;

class TransportTest : public PciDeviceTest {
 protected:
  // One random-bytes request of `length` bytes at kDataArea on queue 0, made available.
  uint16_t add_rng_request(uint32_t length = 64) {
    const uint16_t head = driver_->queue(0).add({{kDataArea, length, true}});
    driver_->queue(0).publish();
    return head;
  }

  VirtioRng rng_;
  VirtioConsole console_{nullptr};
};

TEST_F(TransportTest, IdentityIsAModernVirtioFunction) {
  attach(rng_);
  // Virtio 1.2 4.1.2: vendor 0x1af4, device 0x1040 + type, revision 1 (non-transitional).
  EXPECT_EQ(driver_->config_read(pci::reg::kVendorId, 2), 0x1af4u);
  EXPECT_EQ(driver_->config_read(pci::reg::kDeviceId, 2), 0x1044u);
  EXPECT_EQ(driver_->config_read(pci::reg::kRevisionId, 1), 1u);
  EXPECT_EQ(driver_->config_read(pci::reg::kSubsystemVendorId, 2), 0x1af4u);
  // 4.1.2.1: a non-transitional device's subsystem ID is 0x40 or higher, so that legacy
  // drivers (which match the subsystem ID against the device type) leave it alone.
  EXPECT_GE(driver_->config_read(pci::reg::kSubsystemId, 2), 0x40u);
  EXPECT_EQ(driver_->config_read(pci::reg::kInterruptPin, 1), 1u);  // INTA#

  VirtioConsole console(nullptr);
  attach(console);
  EXPECT_EQ(driver_->config_read(pci::reg::kDeviceId, 2), 0x1043u);
  // Class code: communication controller (07h), other (80h).
  EXPECT_EQ(driver_->config_read(pci::reg::kClassCode + 1, 2), 0x0780u);
}

TEST_F(TransportTest, CapabilitiesLocateEveryStructureInsideBar0) {
  attach(console_);
  const std::vector<uint8_t>& ids = driver_->capability_ids();
  EXPECT_EQ(std::count(ids.begin(), ids.end(), pci_layout::kVendorCapabilityId), 4);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), pci::msix_reg::kCapabilityId), 1);

  // BAR 0's size, as firmware sizes it (PCI 3.0 6.2.5.1): write all ones, read the mask back.
  driver_->config_write(pci::reg::kBar0, 4, 0xffffffff);
  const uint32_t bar_size = ~(driver_->config_read(pci::reg::kBar0, 4) & ~0xfu) + 1;
  ASSERT_GT(bar_size, 0u);

  struct Expected {
    CfgType type;
    uint32_t min_length;
    uint8_t cap_len;
  };
  const Expected expected[] = {
      {CfgType::kCommon, common::kSize, pci_layout::kCapSize},
      {CfgType::kNotify, 2 * driver_->notify_multiplier(), pci_layout::kNotifyCapSize},
      {CfgType::kIsr, 1, pci_layout::kCapSize},
      {CfgType::kDevice, console_spec::kConfigSize, pci_layout::kCapSize},
  };
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  for (const Expected& e : expected) {
    const auto& s = driver_->structure(e.type);
    ASSERT_TRUE(s.has_value()) << static_cast<int>(e.type);
    EXPECT_EQ(s->bar, 0);
    EXPECT_GE(s->length, e.min_length) << static_cast<int>(e.type);
    EXPECT_LE(uint64_t{s->offset} + s->length, bar_size) << static_cast<int>(e.type);
    EXPECT_EQ(driver_->config_read(s->capability + pci_layout::kCapLength, 1), e.cap_len);
    ranges.emplace_back(s->offset, s->offset + s->length);
  }
  // 4.1.4.4: notify_off_multiplier is an even number of bytes (or 0).
  EXPECT_EQ(driver_->notify_multiplier() % 2, 0u);
  // No two structures overlap.
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i) EXPECT_LE(ranges[i - 1].second, ranges[i].first);
  // One MSI-X vector per queue plus one for configuration changes.
  EXPECT_EQ(driver_->msix_vectors(), 3u);
}

TEST_F(TransportTest, DeviceFeatureSelectPagesThe64Bits) {
  attach(console_);
  const uint64_t offered = driver_->device_features();
  EXPECT_EQ(offered, feature_bit(feature::kVersion1) | feature_bit(feature::kIndirectDescriptors) |
                         feature_bit(feature::kEventIndex) |
                         feature_bit(console_spec::kFeatureEmergencyWrite));
  driver_->write_common(common::kDeviceFeatureSelect, 1, 4);
  EXPECT_EQ(driver_->read_common(common::kDeviceFeatureSelect, 4), 1u);
  EXPECT_EQ(driver_->read_common(common::kDeviceFeature, 4), 1u);  // bit 32: VERSION_1
  driver_->write_common(common::kDeviceFeatureSelect, 2, 4);
  EXPECT_EQ(driver_->read_common(common::kDeviceFeature, 4), 0u);  // beyond 64 bits
}

TEST_F(TransportTest, FeaturesOkNeedsVersion1AndOfferedBitsOnly) {
  attach(rng_);
  // 3.1.1 step 5: without VERSION_1 the device refuses FEATURES_OK.
  EXPECT_FALSE(driver_->negotiate(feature_bit(feature::kEventIndex)));
  EXPECT_EQ(driver_->status(), status::kAcknowledge | status::kDriver);
  // A bit the device did not offer (rng offers no device bits) is refused too.
  EXPECT_FALSE(driver_->negotiate(feature_bit(feature::kVersion1) | feature_bit(3)));
  EXPECT_FALSE(driver_->negotiate(feature_bit(feature::kVersion1) | feature_bit(40)));
  // The offered ones are accepted.
  EXPECT_TRUE(
      driver_->negotiate(feature_bit(feature::kVersion1) | feature_bit(feature::kEventIndex)));
  EXPECT_TRUE(transport_->negotiated(feature::kEventIndex));
  EXPECT_FALSE(transport_->negotiated(feature::kIndirectDescriptors));
}

TEST_F(TransportTest, DriverFeatureWritesAfterFeaturesOkAreIgnored) {
  attach(rng_);
  const uint64_t accepted = feature_bit(feature::kVersion1) | feature_bit(feature::kEventIndex);
  ASSERT_TRUE(driver_->negotiate(accepted));
  driver_->write_driver_features(feature_bit(feature::kVersion1) |
                                 feature_bit(feature::kIndirectDescriptors));
  EXPECT_EQ(driver_->driver_features(), accepted);
  EXPECT_TRUE(transport_->negotiated(feature::kEventIndex));
  EXPECT_FALSE(transport_->negotiated(feature::kIndirectDescriptors));
}

TEST_F(TransportTest, QueueFieldsPerQueueAndZeroSizePastTheLast) {
  attach(console_);
  EXPECT_EQ(driver_->num_queues(), 2u);
  for (uint16_t q = 0; q < 2; ++q) {
    driver_->select_queue(q);
    EXPECT_EQ(driver_->read_common(common::kQueueSize, 2), VirtioConsole::kQueueSize);
    EXPECT_EQ(driver_->read_common(common::kQueueEnable, 2), 0u);
    EXPECT_EQ(driver_->read_common(common::kQueueNotifyOff, 2), q);
    EXPECT_EQ(driver_->read_common(common::kQueueMsixVector, 2), pci_layout::kNoVector);
  }
  // 4.1.4.3.2: queue_size reads 0 for a queue that does not exist.
  driver_->select_queue(2);
  EXPECT_EQ(driver_->read_common(common::kQueueSize, 2), 0u);
  driver_->write_common(common::kQueueSize, 8, 2);
  EXPECT_EQ(driver_->read_common(common::kQueueSize, 2), 0u);
  driver_->select_queue(0xffff);
  EXPECT_EQ(driver_->read_common(common::kQueueSize, 2), 0u);
}

TEST_F(TransportTest, QueueSettingsAreFrozenOnceEnabled) {
  attach(rng_);
  ASSERT_TRUE(driver_->negotiate_offered(0));
  driver_->setup_queue(0, queue_base(0), 16);
  const QueueLayout layout = driver_->queue(0).layout();
  // 64-bit fields read back whole, as one 8-byte access or two halves.
  EXPECT_EQ(driver_->read_common(common::kQueueDesc, 8), layout.descriptors);
  EXPECT_EQ(driver_->read_common(common::kQueueDriver, 4), layout.available);
  EXPECT_EQ(driver_->read_common(common::kQueueDevice + 4, 4), 0u);
  driver_->write_common(common::kQueueSize, 32, 2);
  driver_->write_common(common::kQueueDesc, 0x70000, 8);
  driver_->write_common(common::kQueueDriver, 0x71000, 4);
  driver_->write_common(common::kQueueDevice, 0x72000, 4);
  EXPECT_EQ(driver_->read_common(common::kQueueSize, 2), 16u);
  EXPECT_EQ(driver_->read_common(common::kQueueDesc, 8), layout.descriptors);
  EXPECT_EQ(driver_->read_common(common::kQueueDriver, 8), layout.available);
  EXPECT_EQ(driver_->read_common(common::kQueueDevice, 8), layout.used);
  // Writing 0 to queue_enable does not disable it either (4.1.4.3.2).
  driver_->write_common(common::kQueueEnable, 0, 2);
  EXPECT_EQ(driver_->read_common(common::kQueueEnable, 2), 1u);
  // The queue still works where it was set up.
  driver_->driver_ok();
  add_rng_request();
  driver_->notify(0);
  EXPECT_EQ(used(0).size(), 1u);
}

TEST_F(TransportTest, SizeAboveTheMaximumOrNotAPowerOfTwoNeedsReset) {
  attach(rng_);
  ASSERT_TRUE(driver_->negotiate_offered(0));
  driver_->select_queue(0);
  driver_->configure_queue(FakeDriver::contiguous_layout(queue_base(0), 2 * VirtioRng::kQueueSize));
  driver_->write_common(common::kQueueEnable, 1, 2);
  EXPECT_NE(driver_->status() & status::kDeviceNeedsReset, 0);
  EXPECT_EQ(driver_->read_common(common::kQueueEnable, 2), 0u);

  ASSERT_TRUE(driver_->negotiate_offered(0));
  EXPECT_EQ(driver_->status() & status::kDeviceNeedsReset, 0);
  driver_->select_queue(0);
  driver_->configure_queue(FakeDriver::contiguous_layout(queue_base(0), 12));
  driver_->write_common(common::kQueueEnable, 1, 2);
  EXPECT_NE(driver_->status() & status::kDeviceNeedsReset, 0);
}

TEST_F(TransportTest, ResetClearsEveryRegisterAndStopsTheDevice) {
  attach(console_);
  bring_up(2, feature_bit(feature::kEventIndex), /*msix=*/true);
  driver_->write_common(common::kConfigMsixVector, 2, 2);
  driver_->write_common(common::kDeviceFeatureSelect, 1, 4);
  driver_->select_queue(1);

  driver_->set_status(0);
  EXPECT_EQ(driver_->status(), 0u);
  EXPECT_EQ(driver_->read_common(common::kDeviceFeatureSelect, 4), 0u);
  EXPECT_EQ(driver_->driver_features(), 0u);
  EXPECT_EQ(driver_->read_common(common::kConfigMsixVector, 2), pci_layout::kNoVector);
  EXPECT_EQ(driver_->read_common(common::kQueueSelect, 2), 0u);
  for (uint16_t q = 0; q < 2; ++q) {
    driver_->select_queue(q);
    EXPECT_EQ(driver_->read_common(common::kQueueEnable, 2), 0u);
    EXPECT_EQ(driver_->read_common(common::kQueueSize, 2), VirtioConsole::kQueueSize);
    EXPECT_EQ(driver_->read_common(common::kQueueMsixVector, 2), pci_layout::kNoVector);
    EXPECT_EQ(driver_->read_common(common::kQueueDesc, 8), 0u);
    EXPECT_EQ(driver_->read_common(common::kQueueDriver, 8), 0u);
    EXPECT_EQ(driver_->read_common(common::kQueueDevice, 8), 0u);
  }
  EXPECT_FALSE(transport_->negotiated(feature::kEventIndex));
  // The old rings are not looked at any more: a transmit buffer and a doorbell do nothing.
  put(kDataArea, std::vector<uint8_t>{'x'});
  driver_->queue(1).add({{kDataArea, 1, false}});
  driver_->queue(1).publish();
  driver_->notify(1);
  EXPECT_EQ(driver_->queue(1).used_idx(), 0u);
  EXPECT_EQ(console_.metrics().transmitted_bytes, 0u);
}

TEST_F(TransportTest, DoorbellsBeforeDriverOkAreHandledAtActivation) {
  attach(rng_);
  ASSERT_TRUE(driver_->negotiate_offered(0));
  driver_->setup_queue(0, queue_base(0));
  fill(kDataArea, 64, 0);
  const uint16_t head = add_rng_request(64);
  driver_->notify(0);
  EXPECT_EQ(driver_->queue(0).used_idx(), 0u);
  EXPECT_EQ(rng_.metrics().requests, 0u);

  driver_->driver_ok();
  const std::vector<UsedElement> done = used(0);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, head);
  EXPECT_EQ(done[0].len, 64u);
}

TEST_F(TransportTest, DriverOkWithoutFeaturesOkDoesNotActivate) {
  attach(rng_);
  driver_->add_status(status::kAcknowledge | status::kDriver);
  driver_->setup_queue(0, queue_base(0));
  add_rng_request();
  driver_->driver_ok();
  driver_->notify(0);
  EXPECT_EQ(driver_->queue(0).used_idx(), 0u);
}

TEST_F(TransportTest, SnapshotOfAnActiveDeviceContinuesInAFreshTransport) {
  attach(rng_);
  bring_up(1, feature_bit(feature::kEventIndex), /*msix=*/true);
  driver_->write_common(common::kConfigMsixVector, 1, 2);
  add_rng_request(32);
  driver_->notify(0);
  ASSERT_EQ(used(0).size(), 1u);
  ASSERT_EQ(messages_for(0), 1u);

  snapshot::StateWriter out;
  transport_->config_space().save(out);
  transport_->save(out);

  VirtioRng restored_rng;
  auto created = PciTransport::create(restored_rng, memory_, &msi_);
  ASSERT_TRUE(created.ok());
  std::unique_ptr<PciTransport> restored = std::move(*created);
  snapshot::StateReader in(out.data());
  ASSERT_TRUE(restored->config_space().load(in).ok());
  auto loaded = restored->load(in);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_TRUE(in.at_end());

  // The same state, byte for byte.
  snapshot::StateWriter again;
  restored->config_space().save(again);
  restored->save(again);
  EXPECT_EQ(again.data(), out.data());

  transport_ = std::move(restored);
  driver_->rebind(*transport_);
  EXPECT_EQ(driver_->status(),
            status::kAcknowledge | status::kDriver | status::kFeaturesOk | status::kDriverOk);
  EXPECT_EQ(driver_->read_common(common::kConfigMsixVector, 2), 1u);
  EXPECT_TRUE(transport_->negotiated(feature::kEventIndex));
  driver_->select_queue(0);
  EXPECT_EQ(driver_->read_common(common::kQueueEnable, 2), 1u);
  EXPECT_EQ(driver_->read_common(common::kQueueMsixVector, 2), 0u);

  // The queue continues where it was: the next request is the second used entry, and its
  // interrupt goes out through the restored MSI-X table.
  driver_->queue(0).set_used_event(1);
  const uint16_t head = add_rng_request(16);
  driver_->notify(0);
  const std::vector<UsedElement> done = used(0);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, head);
  EXPECT_EQ(done[0].len, 16u);
  EXPECT_EQ(driver_->queue(0).used_idx(), 2u);
  EXPECT_EQ(messages_for(0), 2u);
}

TEST_F(TransportTest, SnapshotKeepsAnOversizedSizeOfADisabledQueue) {
  attach(rng_);
  ASSERT_TRUE(driver_->negotiate_offered(0));
  driver_->select_queue(0);
  driver_->write_common(common::kQueueSize, 4096, 2);  // above the maximum, not enabled yet
  snapshot::StateWriter out;
  transport_->save(out);
  VirtioRng restored_rng;
  auto created = PciTransport::create(restored_rng, memory_, &msi_);
  ASSERT_TRUE(created.ok());
  snapshot::StateReader in(out.data());
  auto loaded = (*created)->load(in);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  transport_ = std::move(*created);
  driver_->rebind(*transport_);
  driver_->select_queue(0);
  EXPECT_EQ(driver_->read_common(common::kQueueSize, 2), 4096u);
  // Enabling it is still refused.
  driver_->configure_queue(FakeDriver::contiguous_layout(queue_base(0), 4096));
  driver_->write_common(common::kQueueEnable, 1, 2);
  EXPECT_NE(driver_->status() & status::kDeviceNeedsReset, 0);
}

TEST_F(TransportTest, SnapshotOfAnotherDeviceTypeIsRefused) {
  attach(console_);
  snapshot::StateWriter out;
  transport_->save(out);
  auto created = PciTransport::create(rng_, memory_, &msi_);
  ASSERT_TRUE(created.ok());
  snapshot::StateReader in(out.data());
  EXPECT_FALSE((*created)->load(in).ok());
}

}  // namespace
}  // namespace cella::virtio::testing
