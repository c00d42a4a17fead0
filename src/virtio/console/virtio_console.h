// virtio-console with a single port (virtio 1.2 5.3, no VIRTIO_CONSOLE_F_MULTIPORT): the
// guest's hvc0. Bytes the guest queues on transmitq0 go to a CharBackend (the terminal);
// bytes from the backend fill the guest's receiveq0 buffers, with the same flow control as the
// UART (chardev.h): the device takes only what the guest has buffers for, and asks the backend
// for more when the guest adds buffers. VIRTIO_CONSOLE_F_EMERG_WRITE lets the guest write a
// byte through the configuration space before the queues exist (early printk).
#pragma once

#include <array>
#include <cstdint>

#include "devices/chardev.h"
#include "virtio/virtio_device.h"

namespace cella::virtio {

// Virtio 1.2 5.3.3 and 5.3.4.
namespace console_spec {
inline constexpr unsigned kFeatureEmergencyWrite = 2;  // VIRTIO_CONSOLE_F_EMERG_WRITE
inline constexpr unsigned kReceiveQueue = 0;           // receiveq(port0)
inline constexpr unsigned kTransmitQueue = 1;          // transmitq(port0)
inline constexpr uint64_t kConfigCols = 0;             // le16
inline constexpr uint64_t kConfigRows = 2;             // le16
inline constexpr uint64_t kConfigMaxPorts = 4;         // le32
inline constexpr uint64_t kConfigEmergencyWrite = 8;   // le32, write-only
inline constexpr size_t kConfigSize = 12;
}  // namespace console_spec

class VirtioConsole final : public VirtioDevice, public devices::CharFrontend {
 public:
  struct Metrics {
    uint64_t transmitted_bytes = 0;
    uint64_t received_bytes = 0;
    uint64_t emergency_bytes = 0;
  };
  static constexpr uint16_t kQueueSize = 128;

  explicit VirtioConsole(devices::CharBackend* backend);

  std::string_view name() const override { return "virtio-console"; }
  DeviceType type() const override { return DeviceType::kConsole; }
  uint64_t features() const override { return feature_bit(console_spec::kFeatureEmergencyWrite); }
  unsigned queue_count() const override { return 2; }
  uint16_t queue_max_size(unsigned) const override { return kQueueSize; }
  std::span<const uint8_t> config() const override { return config_; }
  void write_config(uint64_t offset, std::span<const uint8_t> data) override;

  void activate(Transport& transport) override { transport_ = &transport; }
  void notify(unsigned index) override;
  void reset() override { transport_ = nullptr; }
  void save(snapshot::StateWriter& out) const override;
  Result<void> load(snapshot::StateReader& in) override;

  // CharFrontend: host bytes for the guest.
  size_t receive(std::span<const uint8_t> bytes) override;
  // There is no break on a virtio console: the break is dropped (and consumed).
  bool receive_break() override { return true; }

  const Metrics& metrics() const { return metrics_; }

 private:
  void transmit();

  devices::CharBackend* backend_;
  Transport* transport_ = nullptr;
  std::array<uint8_t, console_spec::kConfigSize> config_{};
  Metrics metrics_;
};

}  // namespace cella::virtio
