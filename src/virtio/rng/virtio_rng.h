// virtio-rng, the entropy device (virtio 1.2 5.4): one request queue whose device-writable
// buffers the device fills with host randomness (getrandom(2)). No configuration space, no
// device features. The guest's hw_random core feeds the bytes to its entropy pool.
#pragma once

#include <cstdint>
#include <vector>

#include "virtio/virtio_device.h"

namespace cella::virtio {

class VirtioRng final : public VirtioDevice {
 public:
  struct Metrics {
    uint64_t requests = 0;
    uint64_t bytes = 0;
  };
  // Bytes given per request at most (the guest asks for its buffer size, 16-64 bytes in Linux).
  static constexpr uint32_t kMaxBytesPerRequest = 64 * 1024;
  static constexpr uint16_t kQueueSize = 64;

  std::string_view name() const override { return "virtio-rng"; }
  DeviceType type() const override { return DeviceType::kEntropy; }
  uint64_t features() const override { return 0; }
  unsigned queue_count() const override { return 1; }  // 5.4.2: requestq
  uint16_t queue_max_size(unsigned) const override { return kQueueSize; }
  std::span<const uint8_t> config() const override { return {}; }

  void activate(Transport& transport) override { transport_ = &transport; }
  void notify(unsigned index) override;
  void reset() override { transport_ = nullptr; }
  void save(snapshot::StateWriter& out) const override;
  Result<void> load(snapshot::StateReader& in) override;

  const Metrics& metrics() const { return metrics_; }

 private:
  Transport* transport_ = nullptr;
  std::vector<uint8_t> scratch_;
  Metrics metrics_;
};

}  // namespace cella::virtio
