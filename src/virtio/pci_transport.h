// The virtio PCI transport, modern interface only (virtio 1.2 4.1): one PCI function per
// virtio device with vendor capabilities pointing at the common configuration, notification,
// ISR and device configuration structures in memory BAR 0, plus MSI-X (a vector per queue and
// one for configuration changes) with the INTx pin as the fallback when the driver does not
// enable MSI-X. The transport implements feature negotiation, the device status state
// machine, queue setup and interrupt delivery; the VirtioDevice behind it does the rest.
//
// As a devices::Device, the transport is the register window of BAR 0: the machine maps it on
// its MMIO bus wherever the guest (or the firmware) places the BAR.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "devices/device.h"
#include "devices/irq.h"
#include "memory/guest_memory.h"
#include "pci/config_space.h"
#include "pci/msix.h"
#include "virtio/virtio_device.h"

namespace cella::virtio {

class PciTransport final : public devices::Device, public Transport {
 public:
  struct Metrics {
    uint64_t notifications = 0;
    uint64_t msix_interrupts = 0;
    uint64_t intx_interrupts = 0;
    uint64_t suppressed_interrupts = 0;  // used buffers the driver did not want to hear about
    uint64_t device_errors = 0;
    uint64_t resets = 0;
  };

  // `msi` receives MSI-X messages (may be null in tests that use INTx only).
  static Result<std::unique_ptr<PciTransport>> create(VirtioDevice& device,
                                                      memory::GuestMemory& memory,
                                                      pci::MsiSink* msi);

  pci::ConfigSpace& config_space() { return config_; }
  // The function's INTx pin (INTA#), once the machine knows its slot.
  void set_intx(devices::IrqLine line) { intx_ = line; }
  uint8_t status() const { return status_; }
  const std::string& last_error() const { return last_error_; }
  const Metrics& metrics() const { return metrics_; }

  // devices::Device: BAR 0.
  std::string_view name() const override { return name_; }
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;
  void reset() override;
  void save(snapshot::StateWriter& out) const override;
  Result<void> load(snapshot::StateReader& in) override;

  // Transport, for the device.
  Virtqueue& queue(unsigned index) override { return queues_[index].queue; }
  bool negotiated(unsigned bit) const override {
    return bit < 64 && (driver_features_ >> bit & 1) != 0;
  }
  void used_buffers(unsigned index) override;
  void config_changed() override;
  void device_error(const Error& why) override;

 private:
  struct Queue {
    explicit Queue(memory::GuestMemory& memory) : queue(memory) {}
    Virtqueue queue;
    uint16_t size = 0;
    uint16_t max_size = 0;
    uint16_t msix_vector = 0;
    QueueLayout layout;
  };

  PciTransport(VirtioDevice& device, memory::GuestMemory& memory, pci::MsiSink* msi);
  Result<void> build();
  uint64_t offered_features() const;

  uint64_t read_common(uint64_t offset, unsigned size) const;
  void write_common(uint64_t offset, unsigned size, uint64_t value);
  void write_queue_field(uint64_t offset, unsigned size, uint64_t value);
  void set_status(uint8_t value);
  void enable_queue(Queue& queue);
  void reset_device();
  uint8_t read_isr();
  void notify(uint64_t offset, unsigned size);
  void interrupt(uint16_t msix_vector, uint8_t isr_bit);
  void update_intx();
  Queue* selected_queue();
  const Queue* selected_queue() const;

  VirtioDevice& device_;
  memory::GuestMemory& memory_;
  std::string name_;
  pci::ConfigSpace config_;
  pci::MsiSink* msi_;
  std::unique_ptr<pci::Msix> msix_;
  devices::IrqLine intx_;
  std::vector<Queue> queues_;

  // Virtio 1.2 4.1.4.3: the common configuration structure's state.
  uint32_t device_feature_select_ = 0;
  uint32_t driver_feature_select_ = 0;
  uint64_t driver_features_ = 0;
  uint16_t config_msix_vector_ = 0;
  uint8_t status_ = 0;
  uint8_t config_generation_ = 0;
  uint16_t queue_select_ = 0;
  uint8_t isr_ = 0;
  bool active_ = false;  // the device was activated (DRIVER_OK)
  std::string last_error_;
  Metrics metrics_;
};

}  // namespace cella::virtio
