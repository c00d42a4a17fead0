// The virtio PCI transport's snapshot section: the common configuration state, each queue's
// settings and ring position, the MSI-X table, then the device's own section. The function's
// configuration space is saved with the PCI bus.
#include "virtio/pci_transport.h"

namespace cella::virtio {

namespace {
constexpr uint32_t kStateVersion = 1;
}

void PciTransport::save(snapshot::StateWriter& out) const {
  out.begin_section("virtio-pci", kStateVersion);
  out.u32(device_feature_select_);
  out.u32(driver_feature_select_);
  out.u64(driver_features_);
  out.u16(config_msix_vector_);
  out.u8(status_);
  out.u8(config_generation_);
  out.u16(queue_select_);
  out.u8(isr_);
  out.boolean(active_);
  out.u16(static_cast<uint16_t>(queues_.size()));
  for (const Queue& queue : queues_) {
    out.u16(queue.size);
    out.u16(queue.msix_vector);
    out.u64(queue.layout.descriptors);
    out.u64(queue.layout.available);
    out.u64(queue.layout.used);
    queue.queue.save(out);
  }
  msix_->save(out);
  device_.save(out);
  out.end_section();
}

Result<void> PciTransport::load(snapshot::StateReader& in) {
  CELLA_TRY(in.begin_section("virtio-pci", kStateVersion));
  // Back to the reset state, except the MSI-X capability: its bytes (the enable and function
  // mask bits) are configuration space state, restored with the PCI bus, possibly already.
  reset_device();
  last_error_.clear();
  CELLA_TRY_ASSIGN(device_feature_select, in.u32());
  CELLA_TRY_ASSIGN(driver_feature_select, in.u32());
  CELLA_TRY_ASSIGN(driver_features, in.u64());
  CELLA_TRY_ASSIGN(config_msix_vector, in.u16());
  CELLA_TRY_ASSIGN(status, in.u8());
  CELLA_TRY_ASSIGN(config_generation, in.u8());
  CELLA_TRY_ASSIGN(queue_select, in.u16());
  CELLA_TRY_ASSIGN(isr, in.u8());
  CELLA_TRY_ASSIGN(active, in.boolean());
  CELLA_TRY_ASSIGN(queue_count, in.u16());
  if (queue_count != queues_.size()) {
    return make_error("{}: the snapshot has {} queues, this device {}", name_, queue_count,
                      queues_.size());
  }
  device_feature_select_ = device_feature_select;
  driver_feature_select_ = driver_feature_select;
  driver_features_ = driver_features;
  config_msix_vector_ = config_msix_vector;
  status_ = status;
  config_generation_ = config_generation;
  queue_select_ = queue_select;
  isr_ = isr;
  for (Queue& queue : queues_) {
    CELLA_TRY_ASSIGN(size, in.u16());
    CELLA_TRY_ASSIGN(msix_vector, in.u16());
    CELLA_TRY_ASSIGN(descriptors, in.u64());
    CELLA_TRY_ASSIGN(available, in.u64());
    CELLA_TRY_ASSIGN(used, in.u64());
    CELLA_TRY(queue.queue.load(in));
    // A driver may write any queue_size before it enables the queue (enabling then fails);
    // only an enabled queue must fit the device's maximum.
    if (queue.queue.enabled() && size > queue.max_size) {
      return make_error("{}: queue size {} in the snapshot exceeds {}", name_, size,
                        queue.max_size);
    }
    queue.size = size;
    queue.msix_vector = msix_vector;
    queue.layout = {size, descriptors, available, used};
  }
  CELLA_TRY(msix_->load(in));
  if (active) {
    active_ = true;
    device_.activate(*this);
  }
  CELLA_TRY(device_.load(in));
  update_intx();
  return in.end_section();
}

}  // namespace cella::virtio
