#include "virtio/pci_transport.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "base/log.h"
#include "virtio/pci_layout.h"

namespace cella::virtio {

using devices::access_value;
using devices::fill_access;
namespace layout = pci_layout;

namespace {

// The PCI class of each device type (PCI Code and ID Assignment 1.11, chapter 1).
struct DeviceClass {
  DeviceType type;
  uint8_t base_class;
  uint8_t subclass;
};
constexpr DeviceClass kDeviceClasses[] = {
    {DeviceType::kNet, 0x02, 0x00},      // network controller, Ethernet
    {DeviceType::kBlock, 0x01, 0x80},    // mass storage, other
    {DeviceType::kConsole, 0x07, 0x80},  // communication, other
    {DeviceType::kEntropy, 0xff, 0x00},  // unassigned class
};

// Virtio 1.2 4.1.2: the identity of a modern (non-transitional) virtio PCI function.
pci::FunctionIdentity pci_identity(DeviceType type) {
  DeviceClass cls{type, 0xff, 0x00};
  for (const DeviceClass& c : kDeviceClasses) {
    if (c.type == type) cls = c;
  }
  const auto number = static_cast<uint16_t>(type);
  return pci::FunctionIdentity{
      .vendor_id = layout::kVendorId,
      .device_id = static_cast<uint16_t>(layout::kDeviceIdBase + number),
      .base_class = cls.base_class,
      .subclass = cls.subclass,
      .revision = layout::kRevision,
      .subsystem_vendor_id = layout::kVendorId,
      .subsystem_id = static_cast<uint16_t>(layout::kSubsystemIdBase + number),
  };
}

// The fields of struct virtio_pci_common_cfg (virtio 1.2 4.1.4.3) with their widths; writes
// to read-only fields are ignored.
struct CommonField {
  uint64_t offset;
  unsigned size;
  bool writable;
};
constexpr CommonField kCommonFields[] = {
    {layout::common::kDeviceFeatureSelect, 4, true}, {layout::common::kDeviceFeature, 4, false},
    {layout::common::kDriverFeatureSelect, 4, true}, {layout::common::kDriverFeature, 4, true},
    {layout::common::kConfigMsixVector, 2, true},    {layout::common::kNumQueues, 2, false},
    {layout::common::kDeviceStatus, 1, true},        {layout::common::kConfigGeneration, 1, false},
    {layout::common::kQueueSelect, 2, true},         {layout::common::kQueueSize, 2, true},
    {layout::common::kQueueMsixVector, 2, true},     {layout::common::kQueueEnable, 2, true},
    {layout::common::kQueueNotifyOff, 2, false},     {layout::common::kQueueDesc, 8, true},
    {layout::common::kQueueDriver, 8, true},         {layout::common::kQueueDevice, 8, true},
};

// The transport features Cella implements (virtio 1.2 6).
constexpr uint64_t kTransportFeatures = feature_bit(feature::kVersion1) |
                                        feature_bit(feature::kIndirectDescriptors) |
                                        feature_bit(feature::kEventIndex);

bool inside(uint64_t offset, size_t size, uint64_t base, uint64_t length) {
  return offset >= base && offset - base + size <= length;
}

}  // namespace

Result<std::unique_ptr<PciTransport>> PciTransport::create(VirtioDevice& device,
                                                           memory::GuestMemory& memory,
                                                           pci::MsiSink* msi) {
  std::unique_ptr<PciTransport> transport(new PciTransport(device, memory, msi));
  CELLA_TRY(transport->build());
  return transport;
}

PciTransport::PciTransport(VirtioDevice& device, memory::GuestMemory& memory, pci::MsiSink* msi)
    : device_(device),
      memory_(memory),
      name_(device.name()),
      config_(pci_identity(device.type())),
      msi_(msi) {}

Result<void> PciTransport::build() {
  const unsigned count = device_.queue_count();
  if (count == 0 || count > layout::kMaxQueues) {
    return make_error("{}: {} queues (1 to {} supported)", name_, count, layout::kMaxQueues);
  }
  if (device_.config().size() > layout::kDeviceMaxSize) {
    return make_error("{}: device configuration of {} bytes", name_, device_.config().size());
  }
  CELLA_TRY(config_.add_bar(layout::kBar, pci::BarKind::kMemory32, layout::kBarSize));

  // Virtio 1.2 4.1.4: one capability per structure, all in BAR 0.
  struct Region {
    layout::CfgType type;
    uint64_t offset;
    uint64_t length;
    uint8_t cap_size;
  };
  const Region regions[] = {
      {layout::CfgType::kCommon, layout::kCommonOffset, layout::common::kSize, layout::kCapSize},
      {layout::CfgType::kNotify, layout::kNotifyOffset, uint64_t{count} * layout::kNotifyMultiplier,
       layout::kNotifyCapSize},
      {layout::CfgType::kIsr, layout::kIsrOffset, 1, layout::kCapSize},
      {layout::CfgType::kDevice, layout::kDeviceOffset,
       std::max<uint64_t>(device_.config().size(), 4), layout::kCapSize},
  };
  for (const Region& region : regions) {
    const uint8_t cap = config_.add_capability(layout::kVendorCapabilityId, region.cap_size);
    if (cap == 0) return make_error("{}: no room for the virtio capabilities", name_);
    config_.set_u8(cap + layout::kCapLength, region.cap_size);
    config_.set_u8(cap + layout::kCapCfgType, static_cast<uint8_t>(region.type));
    config_.set_u8(cap + layout::kCapBar, layout::kBar);
    config_.set_u32(cap + layout::kCapOffset, static_cast<uint32_t>(region.offset));
    config_.set_u32(cap + layout::kCapRegionLength, static_cast<uint32_t>(region.length));
    if (region.type == layout::CfgType::kNotify) {
      config_.set_u32(cap + layout::kNotifyCapMultiplier, layout::kNotifyMultiplier);
    }
  }
  // One MSI-X vector per queue and one for configuration changes.
  CELLA_TRY_ASSIGN(msix, pci::Msix::create(config_, count + 1, layout::kBar,
                                           layout::kMsixTableOffset, layout::kMsixPbaOffset, msi_));
  msix_ = std::make_unique<pci::Msix>(std::move(msix));
  config_.set_interrupt_pin(1);  // INTA#
  config_.set_write_listener([this](uint16_t, unsigned) {
    msix_->config_written();
    update_intx();
  });

  queues_.reserve(count);
  for (unsigned i = 0; i < count; ++i) {
    Queue& queue = queues_.emplace_back(memory_);
    queue.max_size = device_.queue_max_size(i);
  }
  reset_device();
  return ok();
}

uint64_t PciTransport::offered_features() const {
  return device_.features() | kTransportFeatures;
}

PciTransport::Queue* PciTransport::selected_queue() {
  return queue_select_ < queues_.size() ? &queues_[queue_select_] : nullptr;
}
const PciTransport::Queue* PciTransport::selected_queue() const {
  return queue_select_ < queues_.size() ? &queues_[queue_select_] : nullptr;
}

uint64_t PciTransport::read_common(uint64_t offset, unsigned size) const {
  // The structure's current bytes; any access width reads the bytes it covers.
  std::array<uint8_t, layout::common::kSize> bytes{};
  auto put = [&](uint64_t field, uint64_t value, unsigned width) {
    fill_access({&bytes[field], width}, value);
  };
  put(layout::common::kDeviceFeatureSelect, device_feature_select_, 4);
  put(layout::common::kDeviceFeature,
      device_feature_select_ < 2 ? offered_features() >> (32 * device_feature_select_) : 0, 4);
  put(layout::common::kDriverFeatureSelect, driver_feature_select_, 4);
  put(layout::common::kDriverFeature,
      driver_feature_select_ < 2 ? driver_features_ >> (32 * driver_feature_select_) : 0, 4);
  put(layout::common::kConfigMsixVector, config_msix_vector_, 2);
  put(layout::common::kNumQueues, queues_.size(), 2);
  put(layout::common::kDeviceStatus, status_, 1);
  put(layout::common::kConfigGeneration, config_generation_, 1);
  put(layout::common::kQueueSelect, queue_select_, 2);
  if (const Queue* queue = selected_queue()) {
    put(layout::common::kQueueSize, queue->size, 2);
    put(layout::common::kQueueMsixVector, queue->msix_vector, 2);
    put(layout::common::kQueueEnable, queue->queue.enabled() ? 1 : 0, 2);
    put(layout::common::kQueueNotifyOff, queue_select_, 2);
    put(layout::common::kQueueDesc, queue->layout.descriptors, 8);
    put(layout::common::kQueueDriver, queue->layout.available, 8);
    put(layout::common::kQueueDevice, queue->layout.used, 8);
  }
  // 4.1.4.3.2: queue_size reads 0 for a queue_select past the last queue.
  return access_value({&bytes[offset], size});
}

void PciTransport::write_common(uint64_t offset, unsigned size, uint64_t value) {
  for (const CommonField& field : kCommonFields) {
    if (offset + size <= field.offset || offset >= field.offset + field.size) continue;
    if (!field.writable) continue;
    // Merge the written bytes into the field's current value (a 64-bit address may arrive as
    // two 32-bit halves, 4.1.3.1).
    uint8_t bytes[8];
    fill_access({bytes, field.size}, read_common(field.offset, field.size));
    for (unsigned i = 0; i < size; ++i) {
      const uint64_t at = offset + i;
      if (at >= field.offset && at < field.offset + field.size) {
        bytes[at - field.offset] = static_cast<uint8_t>(value >> (8 * i));
      }
    }
    const uint64_t merged = access_value({bytes, field.size});
    switch (field.offset) {
      case layout::common::kDeviceFeatureSelect:
        device_feature_select_ = static_cast<uint32_t>(merged);
        break;
      case layout::common::kDriverFeatureSelect:
        driver_feature_select_ = static_cast<uint32_t>(merged);
        break;
      case layout::common::kDriverFeature:
        // 3.1.1: features are written before FEATURES_OK; later writes are ignored.
        if ((status_ & status::kFeaturesOk) == 0 && driver_feature_select_ < 2) {
          const unsigned shift = 32 * driver_feature_select_;
          driver_features_ = (driver_features_ & ~(uint64_t{0xffffffff} << shift)) |
                             (merged & 0xffffffff) << shift;
        }
        break;
      case layout::common::kConfigMsixVector:
        // 4.1.5.1.2: a vector the function does not have reads back as NO_VECTOR.
        config_msix_vector_ =
            merged < msix_->vectors() ? static_cast<uint16_t>(merged) : layout::kNoVector;
        break;
      case layout::common::kDeviceStatus:
        set_status(static_cast<uint8_t>(merged));
        break;
      case layout::common::kQueueSelect:
        queue_select_ = static_cast<uint16_t>(merged);
        break;
      default:
        write_queue_field(field.offset, field.size, merged);
        break;
    }
  }
}

void PciTransport::write_queue_field(uint64_t offset, unsigned size, uint64_t value) {
  (void)size;
  Queue* queue = selected_queue();
  if (queue == nullptr) return;
  // 4.1.4.3.2: the queue's configuration is fixed once it is enabled.
  const bool enabled = queue->queue.enabled();
  switch (offset) {
    case layout::common::kQueueSize:
      if (!enabled) queue->size = static_cast<uint16_t>(value);
      break;
    case layout::common::kQueueMsixVector:
      queue->msix_vector =
          value < msix_->vectors() ? static_cast<uint16_t>(value) : layout::kNoVector;
      break;
    case layout::common::kQueueEnable:
      if (value == 1 && !enabled) enable_queue(*queue);
      break;
    case layout::common::kQueueDesc:
      if (!enabled) queue->layout.descriptors = value;
      break;
    case layout::common::kQueueDriver:
      if (!enabled) queue->layout.available = value;
      break;
    case layout::common::kQueueDevice:
      if (!enabled) queue->layout.used = value;
      break;
    default:
      break;
  }
}

void PciTransport::enable_queue(Queue& queue) {
  if (queue.size == 0 || queue.size > queue.max_size) {
    device_error(make_error("queue {}: size {} (the device offers at most {})",
                            &queue - queues_.data(), queue.size, queue.max_size));
    return;
  }
  QueueLayout layout = queue.layout;
  layout.size = queue.size;
  if (auto enabled = queue.queue.enable(layout, negotiated(feature::kEventIndex)); !enabled) {
    device_error(enabled.error().context(fmt::format("queue {}", &queue - queues_.data())));
  }
}

void PciTransport::set_status(uint8_t value) {
  if (value == 0) {
    reset_device();
    return;
  }
  const uint8_t added = static_cast<uint8_t>(value & ~status_);
  uint8_t accepted = value;
  if ((added & status::kFeaturesOk) != 0) {
    // 3.1.1 step 5: the device accepts only features it offered, and a modern driver.
    const bool subset = (driver_features_ & ~offered_features()) == 0;
    if (!subset || !negotiated(feature::kVersion1)) {
      accepted &= static_cast<uint8_t>(~status::kFeaturesOk);
    }
  }
  // DEVICE_NEEDS_RESET is the device's to set; the driver cannot clear it except by a reset.
  accepted = static_cast<uint8_t>((accepted & ~status::kDeviceNeedsReset) |
                                  (status_ & status::kDeviceNeedsReset));
  status_ = accepted;
  if ((added & status::kDriverOk) != 0 && (status_ & status::kDeviceNeedsReset) != 0) {
    // 2.1.2: the device needed a reset before DRIVER_OK, when it could not notify; a driver
    // that now relies on the device hears about it at once.
    interrupt(config_msix_vector_, layout::kIsrConfig);
  }
  if ((status_ & status::kDriverOk) != 0 && (status_ & status::kFeaturesOk) != 0 && !active_ &&
      (status_ & status::kDeviceNeedsReset) == 0) {
    active_ = true;
    device_.activate(*this);
    // Buffers made available before DRIVER_OK are looked at now.
    for (unsigned i = 0; i < queues_.size(); ++i) {
      if (queues_[i].queue.enabled()) device_.notify(i);
    }
  }
}

void PciTransport::reset_device() {
  if (active_) device_.reset();
  active_ = false;
  for (Queue& queue : queues_) {
    queue.queue.reset();
    queue.size = queue.max_size;
    queue.msix_vector = layout::kNoVector;
    queue.layout = {};
  }
  device_feature_select_ = 0;
  driver_feature_select_ = 0;
  driver_features_ = 0;
  config_msix_vector_ = layout::kNoVector;
  status_ = 0;
  queue_select_ = 0;
  isr_ = 0;
  update_intx();
}

void PciTransport::reset() {
  ++metrics_.resets;
  reset_device();
  msix_->reset();
  last_error_.clear();
}

uint8_t PciTransport::read_isr() {
  // 4.1.4.5: reading the ISR status clears it and de-asserts INTx.
  const uint8_t value = isr_;
  isr_ = 0;
  update_intx();
  return value;
}

void PciTransport::notify(uint64_t offset, unsigned size) {
  if (size != 2 && size != 4) return;
  const uint64_t index = offset / layout::kNotifyMultiplier;
  if (offset % layout::kNotifyMultiplier != 0 || index >= queues_.size()) return;
  ++metrics_.notifications;
  // 4.1.4.4: the driver notifies only after DRIVER_OK; earlier doorbells are looked at when
  // the device is activated.
  if (active_ && (status_ & status::kDeviceNeedsReset) == 0 && queues_[index].queue.enabled()) {
    device_.notify(static_cast<unsigned>(index));
  }
}

void PciTransport::read(uint64_t offset, std::span<uint8_t> data) {
  const unsigned size = static_cast<unsigned>(data.size());
  if (inside(offset, size, layout::kCommonOffset, layout::common::kSize)) {
    fill_access(data, read_common(offset - layout::kCommonOffset, size));
  } else if (inside(offset, size, layout::kIsrOffset, 1)) {
    fill_access(data, read_isr());
  } else if (inside(offset, size, layout::kDeviceOffset, device_.config().size())) {
    const auto config = device_.config().subspan(offset - layout::kDeviceOffset, size);
    std::copy(config.begin(), config.end(), data.begin());
  } else if (inside(offset, size, layout::kMsixTableOffset, msix_->table_bytes())) {
    msix_->read_table(offset - layout::kMsixTableOffset, data);
  } else if (inside(offset, size, layout::kMsixPbaOffset, msix_->pba_bytes())) {
    msix_->read_pba(offset - layout::kMsixPbaOffset, data);
  } else {
    fill_access(data, 0);  // reserved space and the write-only doorbells read as zero
  }
}

void PciTransport::write(uint64_t offset, std::span<const uint8_t> data) {
  const unsigned size = static_cast<unsigned>(data.size());
  if (inside(offset, size, layout::kCommonOffset, layout::common::kSize)) {
    write_common(offset - layout::kCommonOffset, size, access_value(data));
  } else if (inside(offset, size, layout::kDeviceOffset, device_.config().size())) {
    device_.write_config(offset - layout::kDeviceOffset, data);
  } else if (inside(offset, size, layout::kNotifyOffset,
                    queues_.size() * layout::kNotifyMultiplier)) {
    notify(offset - layout::kNotifyOffset, size);
  } else if (inside(offset, size, layout::kMsixTableOffset, msix_->table_bytes())) {
    msix_->write_table(offset - layout::kMsixTableOffset, data);
  }
}

void PciTransport::interrupt(uint16_t msix_vector, uint8_t isr_bit) {
  if (msix_->enabled()) {
    // 4.1.5.1.2: with MSI-X, NO_VECTOR means no interrupt for this event.
    if (msix_vector == layout::kNoVector) return;
    ++metrics_.msix_interrupts;
    msix_->signal(msix_vector);
    return;
  }
  ++metrics_.intx_interrupts;
  isr_ |= isr_bit;
  update_intx();
}

void PciTransport::update_intx() {
  // PCI Local Bus 3.0 6.2.2/6.2.3: the command register's Interrupt Disable gates the pin;
  // the status register's Interrupt Status shows the function's request regardless.
  const bool request = isr_ != 0 && !msix_->enabled();
  const uint16_t pci_status = config_.u16(pci::reg::kStatus);
  config_.set_u16(pci::reg::kStatus,
                  request ? pci_status | pci::kStatusInterrupt
                          : pci_status & static_cast<uint16_t>(~pci::kStatusInterrupt));
  const bool disabled = (config_.u16(pci::reg::kCommand) & pci::kCommandInterruptDisable) != 0;
  const bool level = request && !disabled;
  if (level != intx_.level()) intx_.set(level);
}

void PciTransport::used_buffers(unsigned index) {
  if (index >= queues_.size()) return;
  Queue& queue = queues_[index];
  if (!queue.queue.needs_interrupt()) {
    ++metrics_.suppressed_interrupts;
    return;
  }
  interrupt(queue.msix_vector, layout::kIsrQueue);
}

void PciTransport::config_changed() {
  ++config_generation_;
  if ((status_ & status::kDriverOk) != 0) interrupt(config_msix_vector_, layout::kIsrConfig);
}

void PciTransport::device_error(const Error& why) {
  if ((status_ & status::kDeviceNeedsReset) != 0) return;
  ++metrics_.device_errors;
  last_error_ = why.message();
  log::warn("{}: the driver broke the virtio rules, the device needs a reset: {}", name_,
            last_error_);
  // The device stays as it is (requests in flight complete) but hears no more doorbells
  // until the driver resets it.
  status_ |= status::kDeviceNeedsReset;
  // 2.1.2: a device that sets DEVICE_NEEDS_RESET sends a configuration change notification.
  if ((status_ & status::kDriverOk) != 0) interrupt(config_msix_vector_, layout::kIsrConfig);
}

}  // namespace cella::virtio
