// A virtio device as its transport sees it (virtio 1.2 chapter 5): the device type, the
// device-specific feature bits, the device configuration space, its queues, and what happens
// when the driver activates it, notifies a queue or resets it. The transport (pci_transport.h)
// does everything else: feature negotiation, the status state machine, queue setup,
// interrupts. A device never knows which transport it sits on.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "base/result.h"
#include "snapshot/state_stream.h"
#include "virtio/virtio_spec.h"
#include "virtio/virtqueue.h"

namespace cella::virtio {

// What the transport offers an active device.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual Virtqueue& queue(unsigned index) = 0;
  // Whether the driver accepted feature `bit` (device-specific or reserved).
  virtual bool negotiated(unsigned bit) const = 0;
  // After pushing used buffers on `index`: interrupts the driver if the queue asks for it.
  virtual void used_buffers(unsigned index) = 0;
  // The device configuration changed (virtio 1.2 2.5.1): bump the generation and interrupt.
  virtual void config_changed() = 0;
  // The driver broke the rules (a malformed chain, an impossible request): set
  // DEVICE_NEEDS_RESET and tell the driver (virtio 1.2 2.1.2). `why` is logged once. The
  // device is not reset: requests in flight still complete, and it hears no more doorbells
  // until the driver resets it.
  virtual void device_error(const Error& why) = 0;
};

class VirtioDevice {
 public:
  virtual ~VirtioDevice() = default;

  virtual std::string_view name() const = 0;
  virtual DeviceType type() const = 0;
  // Device-specific feature bits (0-23 and 50-127 ranges, virtio 1.2 2.2); the transport adds
  // the reserved ones it implements.
  virtual uint64_t features() const = 0;
  virtual unsigned queue_count() const = 0;
  virtual uint16_t queue_max_size(unsigned index) const = 0;

  // The device configuration space (virtio 1.2 4.1.4.6): its current bytes, and a driver's
  // write of `data` at `offset` (the transport has checked the range).
  virtual std::span<const uint8_t> config() const = 0;
  virtual void write_config(uint64_t offset, std::span<const uint8_t> data) {
    (void)offset;
    (void)data;
  }

  // The driver set DRIVER_OK: the queues it enabled are live. `transport` stays valid until
  // reset().
  virtual void activate(Transport& transport) = 0;
  // The driver notified queue `index` (only after activate()).
  virtual void notify(unsigned index) = 0;
  // A device reset (virtio 1.2 2.4): forget the transport and every request in flight (their
  // completions must not touch the queues any more), keep the backend.
  virtual void reset() = 0;

  // The device's own snapshot section (its queues are saved by the transport).
  virtual void save(snapshot::StateWriter& out) const = 0;
  virtual Result<void> load(snapshot::StateReader& in) = 0;
};

}  // namespace cella::virtio
