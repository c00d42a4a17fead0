#include "virtio/console/virtio_console.h"

#include "devices/device.h"
#include "virtio/segments.h"

namespace cella::virtio {

VirtioConsole::VirtioConsole(devices::CharBackend* backend) : backend_(backend) {
  // 5.3.4: max_nr_ports is meaningful only with MULTIPORT; cols/rows only with SIZE. Zero.
}

void VirtioConsole::write_config(uint64_t offset, std::span<const uint8_t> data) {
  // 5.3.4: a write to emerg_wr sends its low byte to port 0, even before the queues exist.
  if (offset != console_spec::kConfigEmergencyWrite || data.empty()) return;
  ++metrics_.emergency_bytes;
  if (backend_ != nullptr) backend_->transmit(data[0]);
}

void VirtioConsole::notify(unsigned index) {
  if (transport_ == nullptr) return;
  if (index == console_spec::kTransmitQueue) {
    transmit();
  } else if (index == console_spec::kReceiveQueue) {
    notify_receive_room();  // the guest added receive buffers: bytes waiting can come in
  }
}

void VirtioConsole::transmit() {
  Virtqueue& queue = transport_->queue(console_spec::kTransmitQueue);
  bool pushed = false;
  for (;;) {
    auto chain = queue.pop();
    if (!chain) {
      transport_->device_error(chain.error());
      return;
    }
    if (!*chain) break;
    for (const Segment& segment : (*chain)->readable) {
      for (uint32_t i = 0; i < segment.length; ++i) {
        if (backend_ != nullptr) backend_->transmit(segment.host[i]);
      }
    }
    metrics_.transmitted_bytes += (*chain)->readable_bytes;
    queue.push(**chain, 0);
    pushed = true;
  }
  if (pushed) transport_->used_buffers(console_spec::kTransmitQueue);
}

size_t VirtioConsole::receive(std::span<const uint8_t> bytes) {
  if (transport_ == nullptr) return 0;  // no driver yet: the bytes wait in the backend
  Virtqueue& queue = transport_->queue(console_spec::kReceiveQueue);
  if (!queue.enabled()) return 0;
  size_t taken = 0;
  while (taken < bytes.size()) {
    auto chain = queue.pop();
    if (!chain) {
      transport_->device_error(chain.error());
      break;
    }
    if (!*chain) break;  // no buffer: the rest waits until the guest adds some
    const size_t written = copy_to((*chain)->writable, 0, bytes.subspan(taken));
    queue.push(**chain, static_cast<uint32_t>(written));
    taken += written;
    if (written == 0) break;  // a buffer with no writable bytes: returned empty
  }
  metrics_.received_bytes += taken;
  if (taken > 0) transport_->used_buffers(console_spec::kReceiveQueue);
  return taken;
}

void VirtioConsole::save(snapshot::StateWriter& out) const {
  out.begin_section(name(), 1);
  out.u64(metrics_.transmitted_bytes);
  out.u64(metrics_.received_bytes);
  out.u64(metrics_.emergency_bytes);
  out.end_section();
}

Result<void> VirtioConsole::load(snapshot::StateReader& in) {
  CELLA_TRY(in.begin_section(name(), 1));
  CELLA_TRY_ASSIGN(transmitted, in.u64());
  CELLA_TRY_ASSIGN(received, in.u64());
  CELLA_TRY_ASSIGN(emergency, in.u64());
  metrics_ = {transmitted, received, emergency};
  return in.end_section();
}

}  // namespace cella::virtio
