// FakePciDriver: the driver side of a virtio PCI function (virtio 1.2 4.1), for transport and
// device tests. It talks to a PciTransport only as a guest would: configuration space reads and
// writes, and BAR 0 accesses through the devices::Device interface. Like Linux's
// virtio_pci_modern, it finds the common configuration, notification, ISR and device
// configuration structures by walking the vendor capabilities (4.1.4) instead of assuming
// Cella's layout, negotiates features (3.1.1), sets up queues backed by FakeDriver rings,
// programs MSI-X table entries (PCI 3.0 6.8.2) or stays on INTx, rings doorbells and reads the
// ISR. Recording interrupt sinks observe what the transport delivers.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "devices/irq.h"
#include "memory/guest_memory.h"
#include "pci/config_space.h"
#include "pci/msi_sink.h"
#include "pci/msix.h"
#include "tests/support/device_access.h"
#include "tests/unit/virtio/fake_driver.h"
#include "virtio/pci_layout.h"
#include "virtio/pci_transport.h"
#include "virtio/virtio_spec.h"

namespace cella::virtio::testing {

namespace common = pci_layout::common;

// MSI-X messages as (address, data), in delivery order.
class RecordingMsiSink final : public pci::MsiSink {
 public:
  void send_msi(uint64_t address, uint32_t data) override { messages.emplace_back(address, data); }
  std::vector<std::pair<uint64_t, uint32_t>> messages;
};

// INTx: the current level of each GSI and how many times each was raised.
class RecordingInterruptSink final : public devices::InterruptSink {
 public:
  void set_gsi(uint32_t gsi, bool level) override {
    if (level && !levels[gsi]) ++raises[gsi];
    levels[gsi] = level;
  }
  std::map<uint32_t, bool> levels;
  std::map<uint32_t, unsigned> raises;
};

// Where a vendor capability says one structure is (virtio 1.2 4.1.4: bar, offset, length).
struct StructureLocation {
  uint8_t capability = 0;  // its offset in configuration space
  uint8_t bar = 0;
  uint32_t offset = 0;
  uint32_t length = 0;
};

class FakePciDriver {
 public:
  // The address and data each MSI-X vector is programmed with: a fixed-destination message
  // whose data carries 0x40 + vector, so that a delivered message names its vector.
  static constexpr uint64_t kMsiAddress = 0xfee00000;
  static constexpr uint32_t kMsiDataBase = 0x40;

  FakePciDriver(PciTransport& transport, memory::GuestMemory& memory)
      : transport_(&transport), memory_(memory) {
    parse_capabilities();
  }

  // Continues with `transport` (a restored snapshot): the rings stay as they are, the
  // capabilities are found again.
  void rebind(PciTransport& transport) {
    transport_ = &transport;
    capability_ids_.clear();
    parse_capabilities();
  }

  pci::ConfigSpace& config() { return transport_->config_space(); }
  uint32_t config_read(uint16_t offset, unsigned size) { return config().read(offset, size); }
  void config_write(uint16_t offset, unsigned size, uint32_t value) {
    config().write(offset, size, value);
  }

  // The structures, as found in the capability list; the first capability of each type wins
  // (4.1.4.1: the driver uses the first one it can use).
  const std::optional<StructureLocation>& structure(pci_layout::CfgType type) const {
    return structures_.at(static_cast<uint8_t>(type));
  }
  uint32_t notify_multiplier() const { return notify_multiplier_; }
  uint8_t msix_capability() const { return msix_capability_; }
  unsigned msix_vectors() const { return msix_vectors_; }
  // Every capability ID in list order.
  const std::vector<uint8_t>& capability_ids() const { return capability_ids_; }

  // BAR 0 accesses, at an offset inside a structure.
  uint64_t read_bar(uint64_t offset, unsigned size) {
    return cella::testing::read_reg(*transport_, offset, size);
  }
  void write_bar(uint64_t offset, uint64_t value, unsigned size) {
    cella::testing::write_reg(*transport_, offset, value, size);
  }
  uint64_t read_common(uint64_t field, unsigned size) {
    return read_bar(at(pci_layout::CfgType::kCommon, field, size), size);
  }
  void write_common(uint64_t field, uint64_t value, unsigned size) {
    write_bar(at(pci_layout::CfgType::kCommon, field, size), value, size);
  }
  uint64_t read_device_config(uint64_t field, unsigned size) {
    return read_bar(at(pci_layout::CfgType::kDevice, field, size), size);
  }
  void write_device_config(uint64_t field, uint64_t value, unsigned size) {
    write_bar(at(pci_layout::CfgType::kDevice, field, size), value, size);
  }
  uint8_t read_isr() {
    return static_cast<uint8_t>(read_bar(at(pci_layout::CfgType::kIsr, 0, 1), 1));
  }

  uint8_t status() { return static_cast<uint8_t>(read_common(common::kDeviceStatus, 1)); }
  void set_status(uint8_t value) { write_common(common::kDeviceStatus, value, 1); }
  void add_status(uint8_t bits) { set_status(static_cast<uint8_t>(status() | bits)); }

  // The 64 offered feature bits, read 32 at a time through device_feature_select.
  uint64_t device_features() {
    uint64_t features = 0;
    for (uint32_t select = 0; select < 2; ++select) {
      write_common(common::kDeviceFeatureSelect, select, 4);
      features |= read_common(common::kDeviceFeature, 4) << (32 * select);
    }
    return features;
  }
  void write_driver_features(uint64_t features) {
    for (uint32_t select = 0; select < 2; ++select) {
      write_common(common::kDriverFeatureSelect, select, 4);
      write_common(common::kDriverFeature, features >> (32 * select) & 0xffffffff, 4);
    }
  }
  uint64_t driver_features() {
    uint64_t features = 0;
    for (uint32_t select = 0; select < 2; ++select) {
      write_common(common::kDriverFeatureSelect, select, 4);
      features |= read_common(common::kDriverFeature, 4) << (32 * select);
    }
    return features;
  }

  // 3.1.1 steps 1-6: reset, ACKNOWLEDGE, DRIVER, write `features` as they are, FEATURES_OK,
  // and whether FEATURES_OK reads back set.
  bool negotiate(uint64_t features) {
    set_status(0);
    add_status(status::kAcknowledge);
    add_status(status::kDriver);
    write_driver_features(features);
    add_status(status::kFeaturesOk);
    return (status() & status::kFeaturesOk) != 0;
  }
  // Accepts every offered bit in `wanted` plus VERSION_1.
  bool negotiate_offered(uint64_t wanted) {
    return negotiate((device_features() & wanted) | feature_bit(feature::kVersion1));
  }
  void driver_ok() { add_status(status::kDriverOk); }

  uint16_t num_queues() { return static_cast<uint16_t>(read_common(common::kNumQueues, 2)); }
  void select_queue(uint16_t index) { write_common(common::kQueueSelect, index, 2); }

  // 4.1.5.1.3: selects queue `index`, sets its size (0: keep the device's maximum), areas
  // (64-bit fields written as two 32-bit halves, as Linux does) and optionally its MSI-X
  // vector, then enables it. The rings are laid out contiguously at `base`.
  FakeDriver& setup_queue(uint16_t index, uint64_t base, uint16_t size = 0,
                          std::optional<uint16_t> vector = std::nullopt) {
    select_queue(index);
    if (size == 0) size = static_cast<uint16_t>(read_common(common::kQueueSize, 2));
    const QueueLayout layout = FakeDriver::contiguous_layout(base, size);
    // Linux allocates the rings zeroed: no stale index from an earlier driver.
    const std::vector<uint8_t> zeros(layout.used + ring::used_ring_bytes(size) - base, 0);
    EXPECT_TRUE(memory_.write(base, zeros).ok());
    configure_queue(layout, vector);
    write_common(common::kQueueEnable, 1, 2);
    auto& slot = queues_[index];
    slot = std::make_unique<FakeDriver>(memory_, layout, heap_for(index), kHeapPerQueue);
    return *slot;
  }
  // The queue fields alone, without enabling (for malformed layouts).
  void configure_queue(const QueueLayout& layout, std::optional<uint16_t> vector = std::nullopt) {
    write_common(common::kQueueSize, layout.size, 2);
    write_split(common::kQueueDesc, layout.descriptors);
    write_split(common::kQueueDriver, layout.available);
    write_split(common::kQueueDevice, layout.used);
    if (vector) write_common(common::kQueueMsixVector, *vector, 2);
  }
  FakeDriver& queue(uint16_t index) { return *queues_.at(index); }

  // 4.1.4.4: queue `index`'s doorbell, at cap.offset + queue_notify_off * multiplier.
  void notify(uint16_t index) {
    select_queue(index);
    const uint64_t notify_off = read_common(common::kQueueNotifyOff, 2);
    const StructureLocation& n = *structure(pci_layout::CfgType::kNotify);
    write_bar(n.offset + notify_off * notify_multiplier_, index, 2);
  }

  // MSI-X (PCI 3.0 6.8.2.3): the capability's enable and function mask bits.
  void set_msix_control(bool enable, bool function_mask) {
    const uint16_t at = msix_capability_ + pci::msix_reg::kMessageControl;
    uint16_t control = static_cast<uint16_t>(config_read(at, 2));
    control =
        static_cast<uint16_t>(control & ~(pci::msix_reg::kEnable | pci::msix_reg::kFunctionMask));
    if (enable) control |= pci::msix_reg::kEnable;
    if (function_mask) control |= pci::msix_reg::kFunctionMask;
    config_write(at, 2, control);
  }
  // Programs every table entry with kMsiAddress / kMsiDataBase + vector, unmasked, then
  // enables MSI-X.
  void enable_msix() {
    for (unsigned v = 0; v < msix_vectors_; ++v) {
      write_table(v, pci::msix_reg::kEntryAddressLow, static_cast<uint32_t>(kMsiAddress));
      write_table(v, pci::msix_reg::kEntryAddressHigh, 0);
      write_table(v, pci::msix_reg::kEntryData, kMsiDataBase + v);
      mask_vector(v, false);
    }
    set_msix_control(true, false);
  }
  void mask_vector(unsigned vector, bool masked) {
    write_table(vector, pci::msix_reg::kEntryVectorControl,
                masked ? pci::msix_reg::kVectorMasked : 0);
  }
  bool vector_pending(unsigned vector) {
    const uint64_t pba = msix_pba_ + vector / 64 * 8;
    return (read_bar(pba, 8) >> (vector % 64) & 1) != 0;
  }
  void write_table(unsigned vector, uint64_t field, uint32_t value) {
    write_bar(msix_table_ + vector * pci::msix_reg::kEntrySize + field, value, 4);
  }

 private:
  static constexpr uint64_t kHeapBase = 0x40000;  // indirect tables, per queue
  static constexpr uint64_t kHeapPerQueue = 0x8000;
  static uint64_t heap_for(uint16_t index) { return kHeapBase + index * kHeapPerQueue; }

  // The offset in BAR 0 of `field` of structure `type`, checked against the structure's
  // length as a driver would (4.1.4.1: the driver does not access past `length`).
  uint64_t at(pci_layout::CfgType type, uint64_t field, unsigned size) {
    const std::optional<StructureLocation>& s = structure(type);
    EXPECT_TRUE(s.has_value()) << "no capability of type " << static_cast<int>(type);
    if (!s) return 0;
    EXPECT_EQ(s->bar, 0u);
    EXPECT_LE(field + size, s->length) << "access past the structure";
    return s->offset + field;
  }
  void write_split(uint64_t field, uint64_t value) {
    write_common(field, value & 0xffffffff, 4);
    write_common(field + 4, value >> 32, 4);
  }

  // Virtio 1.2 4.1.4 and PCI 3.0 6.7: follow the capability pointers from 0x34.
  void parse_capabilities() {
    for (uint8_t t = 0; t <= static_cast<uint8_t>(pci_layout::CfgType::kPci); ++t) {
      structures_[t] = std::nullopt;
    }
    ASSERT_NE(config_read(pci::reg::kStatus, 2) & pci::kStatusCapabilitiesList, 0u);
    uint8_t cap = static_cast<uint8_t>(config_read(pci::reg::kCapabilitiesPointer, 1) & 0xfc);
    for (unsigned guard = 0; cap != 0 && guard < 48; ++guard) {
      const uint8_t id = static_cast<uint8_t>(config_read(cap, 1));
      capability_ids_.push_back(id);
      if (id == pci_layout::kVendorCapabilityId) parse_vendor(cap);
      if (id == pci::msix_reg::kCapabilityId) parse_msix(cap);
      cap = static_cast<uint8_t>(config_read(cap + 1, 1) & 0xfc);
    }
  }
  void parse_vendor(uint8_t cap) {
    const uint8_t type = static_cast<uint8_t>(config_read(cap + pci_layout::kCapCfgType, 1));
    if (!structures_.contains(type) || structures_[type]) return;
    structures_[type] =
        StructureLocation{cap, static_cast<uint8_t>(config_read(cap + pci_layout::kCapBar, 1)),
                          config_read(cap + pci_layout::kCapOffset, 4),
                          config_read(cap + pci_layout::kCapRegionLength, 4)};
    if (type == static_cast<uint8_t>(pci_layout::CfgType::kNotify)) {
      notify_multiplier_ = config_read(cap + pci_layout::kNotifyCapMultiplier, 4);
    }
  }
  void parse_msix(uint8_t cap) {
    msix_capability_ = cap;
    const uint32_t control = config_read(cap + pci::msix_reg::kMessageControl, 2);
    msix_vectors_ = (control & pci::msix_reg::kTableSizeMask) + 1;
    const uint32_t table = config_read(cap + pci::msix_reg::kTableOffset, 4);
    const uint32_t pba = config_read(cap + pci::msix_reg::kPbaOffset, 4);
    EXPECT_EQ(table & 7, 0u);  // BIR 0
    EXPECT_EQ(pba & 7, 0u);
    msix_table_ = table & ~7u;
    msix_pba_ = pba & ~7u;
  }

  PciTransport* transport_;
  memory::GuestMemory& memory_;
  std::map<uint8_t, std::optional<StructureLocation>> structures_;
  std::vector<uint8_t> capability_ids_;
  uint32_t notify_multiplier_ = 0;
  uint8_t msix_capability_ = 0;
  unsigned msix_vectors_ = 0;
  uint64_t msix_table_ = 0;
  uint64_t msix_pba_ = 0;
  std::map<uint16_t, std::unique_ptr<FakeDriver>> queues_;
};

}  // namespace cella::virtio::testing
