#include "devices/ioapic/ioapic.h"

#include <algorithm>

#include "devices/ioapic/ioapic_registers.h"

namespace cella::devices {

using namespace ioapic;

namespace {
DeliveryMode delivery_mode(uint64_t entry) {
  return static_cast<DeliveryMode>((entry >> kDeliveryModeShift) & 7);
}
// Datasheet 3.2.4: only fixed and lowest-priority interrupts may be level-triggered; SMI, NMI,
// INIT and ExtINT are treated as edge-triggered.
bool level_triggered(uint64_t entry) {
  const DeliveryMode mode = delivery_mode(entry);
  return (entry & kLevelTriggered) != 0 &&
         (mode == DeliveryMode::kFixed || mode == DeliveryMode::kLowestPriority);
}
}  // namespace

Ioapic::Ioapic(ApicRouter* router, uint8_t id) : router_(router), initial_id_(id & 0xf) {
  reset();
}

// Datasheet 3.2.4: after reset every entry is masked and the rest zero.
void Ioapic::reset() {
  id_ = uint32_t{initial_id_} << 24;
  select_ = 0;
  redirection_.fill(kMasked);
  asserted_ = {};
}

uint32_t Ioapic::read_register(uint8_t index) const {
  if (index == kId) return id_;
  if (index == kVersion) return kVersionValue;
  if (index == kArbitration) return id_;  // 3.2.3: the arbitration ID is loaded from the ID
  if (index >= kRedirectionTable && index < kRedirectionTable + 2 * kPins) {
    const uint64_t entry = redirection_[(index - kRedirectionTable) / 2];
    return static_cast<uint32_t>((index & 1) != 0 ? entry >> 32 : entry);
  }
  return 0;  // undefined indices read zero
}

void Ioapic::write_register(uint8_t index, uint32_t value) {
  if (index == kId) {
    id_ = value & kIdMask;
  } else if (index >= kRedirectionTable && index < kRedirectionTable + 2 * kPins) {
    write_redirection((index - kRedirectionTable) / 2, (index & 1) != 0, value);
  }
}

void Ioapic::write_redirection(unsigned pin, bool high, uint32_t value) {
  uint64_t& entry = redirection_[pin];
  const uint64_t half = high ? uint64_t{value} << 32 : value;
  const uint64_t half_mask = high ? 0xffffffff00000000ull : 0xffffffffull;
  const uint64_t writable = kWritable & half_mask;
  entry = (entry & ~writable) | (half & writable);
  // Linux retires a level interrupt on an IOAPIC without an EOI register by switching the
  // entry to edge and back: remote IRR has no meaning for edge entries, so it clears.
  if ((entry & kLevelTriggered) == 0) entry &= ~kRemoteIrr;
  service_level(pin);  // unmasking an asserted level input delivers it
}

// Datasheet 3.0: IOREGSEL selects the register IOWIN reads and writes. IOWIN is a 32-bit
// register; narrower reads see its bytes and narrower writes replace only theirs.
void Ioapic::read(uint64_t offset, std::span<uint8_t> data) {
  for (size_t i = 0; i < data.size(); ++i) {
    const uint64_t at = offset + i;
    if (at >= kIoRegSel && at < kIoRegSel + 4) {
      data[i] = at == kIoRegSel ? select_ : 0;
    } else if (at >= kIoWin && at < kIoWin + 4) {
      data[i] = static_cast<uint8_t>(read_register(select_) >> (8 * (at - kIoWin)));
    } else {
      data[i] = 0xff;
    }
  }
}

void Ioapic::write(uint64_t offset, std::span<const uint8_t> data) {
  if (offset == kIoRegSel) {
    select_ = data[0];
    return;
  }
  if (offset < kIoWin || offset >= kIoWin + 4) return;
  uint32_t value = read_register(select_);
  const auto shift = static_cast<unsigned>(offset - kIoWin);
  for (size_t i = 0; i < data.size() && shift + i < 4; ++i) {
    value &= ~(0xffu << (8 * (shift + i)));
    value |= uint32_t{data[i]} << (8 * (shift + i));
  }
  write_register(select_, value);
}

void Ioapic::send(unsigned pin) {
  const uint64_t entry = redirection_[pin];
  ApicMessage message;
  message.vector = static_cast<uint8_t>(entry & kVectorMask);
  message.mode = delivery_mode(entry);
  message.logical = (entry & kLogical) != 0;
  message.level_triggered = level_triggered(entry);
  message.destination = static_cast<uint32_t>(entry >> kDestinationShift);
  message.x2apic_format = false;  // 8-bit destination (no interrupt remapping)
  ++metrics_.interrupts_sent;
  if (router_ != nullptr) router_->send(message);
}

// Datasheet 3.2.4 (bit 14): a level interrupt is sent while the input is asserted, unmasked
// and not already accepted by a local APIC (remote IRR clear); the EOI clears remote IRR.
void Ioapic::service_level(unsigned pin) {
  uint64_t& entry = redirection_[pin];
  if (!level_triggered(entry) || !asserted_[pin] || (entry & (kMasked | kRemoteIrr)) != 0) return;
  entry |= kRemoteIrr;
  send(pin);
}

void Ioapic::set_pin(unsigned pin, bool asserted) {
  if (pin >= kPins) return;
  const bool rising = asserted && !asserted_[pin];
  asserted_[pin] = asserted;
  const uint64_t entry = redirection_[pin];
  if (level_triggered(entry)) {
    service_level(pin);
  } else if (rising) {
    if ((entry & kMasked) != 0) {
      ++metrics_.edges_masked;
    } else {
      send(pin);
    }
  }
}

void Ioapic::end_of_interrupt(uint8_t vector) {
  for (unsigned pin = 0; pin < kPins; ++pin) {
    uint64_t& entry = redirection_[pin];
    if ((entry & kRemoteIrr) == 0 || (entry & kVectorMask) != vector) continue;
    entry &= ~kRemoteIrr;
    ++metrics_.eois_matched;
    service_level(pin);  // still asserted: sent again
  }
}

}  // namespace cella::devices
