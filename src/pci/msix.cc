#include "pci/msix.h"

#include "devices/device.h"

namespace cella::pci {

using devices::access_value;
using devices::fill_access;

Result<Msix> Msix::create(ConfigSpace& config, unsigned vectors, unsigned bar,
                          uint32_t table_offset, uint32_t pba_offset, MsiSink* sink) {
  if (vectors == 0 || vectors > kMaxVectors) {
    return make_error("pci: MSI-X needs 1 to {} vectors, not {}", kMaxVectors, vectors);
  }
  if (bar >= kBarCount || (table_offset & 7) != 0 || (pba_offset & 7) != 0) {
    return make_error("pci: MSI-X table and PBA must be 8-byte aligned offsets in BAR 0-5");
  }
  const uint8_t capability = config.add_capability(msix_reg::kCapabilityId, msix_reg::kLength);
  if (capability == 0) return make_error("pci: no room for the MSI-X capability");
  config.set_u16(capability + msix_reg::kMessageControl, static_cast<uint16_t>(vectors - 1));
  config.set_writable(capability + msix_reg::kMessageControl + 1, 1,
                      static_cast<uint8_t>((msix_reg::kEnable | msix_reg::kFunctionMask) >> 8));
  config.set_u32(capability + msix_reg::kTableOffset, table_offset | bar);
  config.set_u32(capability + msix_reg::kPbaOffset, pba_offset | bar);
  return Msix(config, capability, vectors, sink);
}

Msix::Msix(ConfigSpace& config, uint16_t capability, unsigned vectors, MsiSink* sink)
    : config_(&config), capability_(capability), entries_(vectors), sink_(sink) {}

bool Msix::enabled() const {
  return (config_->u16(capability_ + msix_reg::kMessageControl) & msix_reg::kEnable) != 0;
}

bool Msix::function_masked() const {
  return (config_->u16(capability_ + msix_reg::kMessageControl) & msix_reg::kFunctionMask) != 0;
}

bool Msix::deliverable(const Entry& entry) const {
  return enabled() && !function_masked() && (entry.vector_control & msix_reg::kVectorMasked) == 0;
}

void Msix::send(Entry& entry) {
  entry.pending = false;
  if (sink_ == nullptr) return;
  sink_->send_msi((uint64_t{entry.address_high} << 32) | entry.address_low, entry.data);
}

void Msix::signal(unsigned vector) {
  if (vector >= entries_.size()) return;
  Entry& entry = entries_[vector];
  if (deliverable(entry)) {
    send(entry);
  } else {
    entry.pending = true;  // 6.8.2.9: the pending bit holds the message until unmasked
  }
}

bool Msix::pending(unsigned vector) const {
  return vector < entries_.size() && entries_[vector].pending;
}

void Msix::deliver_pending() {
  for (Entry& entry : entries_) {
    if (entry.pending && deliverable(entry)) send(entry);
  }
}

void Msix::config_written() {
  deliver_pending();
}

void Msix::read_table(uint64_t offset, std::span<uint8_t> data) const {
  fill_access(data, 0);
  if ((data.size() != 4 && data.size() != 8) || offset % data.size() != 0 ||
      offset + data.size() > table_bytes()) {
    return;
  }
  const Entry& entry = entries_[offset / msix_reg::kEntrySize];
  const uint32_t words[4] = {entry.address_low, entry.address_high, entry.data,
                             entry.vector_control};
  const size_t first = (offset % msix_reg::kEntrySize) / 4;
  uint64_t value = words[first];
  if (data.size() == 8) value |= uint64_t{words[first + 1]} << 32;
  fill_access(data, value);
}

void Msix::write_table(uint64_t offset, std::span<const uint8_t> data) {
  if ((data.size() != 4 && data.size() != 8) || offset % data.size() != 0 ||
      offset + data.size() > table_bytes()) {
    return;
  }
  Entry& entry = entries_[offset / msix_reg::kEntrySize];
  uint32_t* words[4] = {&entry.address_low, &entry.address_high, &entry.data,
                        &entry.vector_control};
  const uint64_t value = access_value(data);
  const size_t first = (offset % msix_reg::kEntrySize) / 4;
  *words[first] = static_cast<uint32_t>(value);
  if (data.size() == 8) *words[first + 1] = static_cast<uint32_t>(value >> 32);
  // 6.8.2.9: only bit 0 of vector control is defined; the rest are reserved (read zero).
  entry.vector_control &= msix_reg::kVectorMasked;
  if (entry.pending && deliverable(entry)) send(entry);
}

void Msix::read_pba(uint64_t offset, std::span<uint8_t> data) const {
  fill_access(data, 0);
  if ((data.size() != 4 && data.size() != 8) || offset % data.size() != 0 ||
      offset + data.size() > pba_bytes()) {
    return;
  }
  uint64_t value = 0;
  for (size_t bit = 0; bit < data.size() * 8; ++bit) {
    const uint64_t vector = offset * 8 + bit;
    if (vector < entries_.size() && entries_[vector].pending) value |= uint64_t{1} << bit;
  }
  fill_access(data, value);
}

void Msix::reset() {
  for (Entry& entry : entries_) entry = Entry{};
  config_->set_u16(capability_ + msix_reg::kMessageControl,
                   static_cast<uint16_t>(entries_.size() - 1));
}

void Msix::save(snapshot::StateWriter& out) const {
  out.begin_section("msix", 1);
  out.u32(static_cast<uint32_t>(entries_.size()));
  for (const Entry& entry : entries_) {
    out.u32(entry.address_low);
    out.u32(entry.address_high);
    out.u32(entry.data);
    out.u32(entry.vector_control);
    out.boolean(entry.pending);
  }
  out.end_section();
}

Result<void> Msix::load(snapshot::StateReader& in) {
  CELLA_TRY(in.begin_section("msix", 1));
  CELLA_TRY_ASSIGN(count, in.u32());
  if (count != entries_.size()) {
    return make_error("msix: the snapshot has {} vectors, this device {}", count, entries_.size());
  }
  for (Entry& entry : entries_) {
    CELLA_TRY_ASSIGN(address_low, in.u32());
    CELLA_TRY_ASSIGN(address_high, in.u32());
    CELLA_TRY_ASSIGN(data, in.u32());
    CELLA_TRY_ASSIGN(vector_control, in.u32());
    CELLA_TRY_ASSIGN(pending, in.boolean());
    entry = {address_low, address_high, data, vector_control & msix_reg::kVectorMasked, pending};
  }
  return in.end_section();
}

}  // namespace cella::pci
