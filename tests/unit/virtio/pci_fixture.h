// The fixture the transport and device tests share: 1 MiB of guest RAM, a PciTransport over a
// device with recording MSI-X and INTx sinks, and a FakePciDriver bound to it. Guest memory:
// queue i's rings at kQueueArea + i * kQueueStride, indirect tables from 0x40000 (the
// FakePciDriver's heap), data buffers from kDataArea.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "tests/unit/virtio/fake_pci_driver.h"
#include "virtio/pci_transport.h"

namespace cella::virtio::testing {

inline constexpr uint64_t kRamSize = 0x100000;
inline constexpr uint64_t kQueueArea = 0x10000;
inline constexpr uint64_t kQueueStride = 0x4000;
inline constexpr uint64_t kDataArea = 0x80000;
inline constexpr uint32_t kIntxGsi = 17;

class PciDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(memory_.add_ram(0, kRamSize).ok()); }

  // Puts `device` behind a fresh transport and driver.
  void attach(VirtioDevice& device) {
    auto created = PciTransport::create(device, memory_, &msi_);
    ASSERT_TRUE(created.ok()) << created.error().message();
    transport_ = std::move(*created);
    transport_->set_intx(devices::IrqLine(intx_, kIntxGsi));
    driver_.emplace(*transport_, memory_);
  }

  // Negotiates VERSION_1 and the offered bits of `features`, sets up `queues` queues at their
  // maximum size (with MSI-X vector i for queue i when `msix`), and sets DRIVER_OK.
  void bring_up(unsigned queues, uint64_t features = 0, bool msix = false) {
    ASSERT_TRUE(driver_->negotiate_offered(features));
    if (msix) driver_->enable_msix();
    for (uint16_t i = 0; i < queues; ++i) {
      driver_->setup_queue(i, queue_base(i), 0, msix ? std::optional<uint16_t>(i) : std::nullopt);
    }
    driver_->driver_ok();
    ASSERT_EQ(driver_->status() & status::kDeviceNeedsReset, 0) << transport_->last_error();
  }

  static uint64_t queue_base(uint16_t index) { return kQueueArea + index * kQueueStride; }

  void put(uint64_t guest, std::span<const uint8_t> bytes) {
    ASSERT_TRUE(memory_.write(guest, bytes).ok());
  }
  std::vector<uint8_t> get(uint64_t guest, size_t length) {
    std::vector<uint8_t> bytes(length);
    EXPECT_TRUE(memory_.read(guest, bytes).ok());
    return bytes;
  }
  void fill(uint64_t guest, size_t length, uint8_t value) {
    put(guest, std::vector<uint8_t>(length, value));
  }

  // Every used element the device has returned on `queue` since the last call.
  std::vector<UsedElement> used(uint16_t queue) {
    std::vector<UsedElement> out;
    while (auto element = driver_->queue(queue).next_used()) out.push_back(*element);
    return out;
  }

  // MSI-X messages that named `vector` (FakePciDriver programs data = kMsiDataBase + vector).
  size_t messages_for(unsigned vector) const {
    size_t n = 0;
    for (const auto& [address, data] : msi_.messages) {
      if (address == FakePciDriver::kMsiAddress && data == FakePciDriver::kMsiDataBase + vector) {
        ++n;
      }
    }
    return n;
  }
  bool intx_level() { return intx_.levels[kIntxGsi]; }

  memory::GuestMemory memory_;
  RecordingMsiSink msi_;
  RecordingInterruptSink intx_;
  std::unique_ptr<PciTransport> transport_;
  std::optional<FakePciDriver> driver_;
};

}  // namespace cella::virtio::testing
