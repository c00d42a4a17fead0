#include "pci/config_space.h"

#include <algorithm>

#include "base/bits.h"

namespace cella::pci {

namespace {
// PCI Local Bus 3.0 6.2.5.1: the read-only low bits of a BAR.
constexpr uint32_t kBarIoFlag = 0x1;
constexpr uint32_t kBarMemory64Type = 0x4;  // bits 2:1 = 10b
constexpr uint32_t kBarPrefetchable = 0x8;
// Command bits this model implements (6.2.2): I/O, memory, bus master, parity error
// response, SERR# enable, interrupt disable.
constexpr uint16_t kCommandWritable = kCommandIoSpace | kCommandMemorySpace | kCommandBusMaster |
                                      kCommandParityErrorResponse | kCommandSerrEnable |
                                      kCommandInterruptDisable;
// The header bytes a snapshot must agree on: IDs, class code, header type, subsystem IDs, pin.
constexpr std::pair<uint16_t, uint16_t> kIdentityRanges[] = {{reg::kVendorId, 4},
                                                             {reg::kRevisionId, 4},
                                                             {reg::kHeaderType, 1},
                                                             {reg::kSubsystemVendorId, 4},
                                                             {reg::kInterruptPin, 1}};
constexpr uint32_t kStateVersion = 1;
}  // namespace

ConfigSpace::ConfigSpace(const FunctionIdentity& identity, size_t size)
    : data_(std::clamp(size, kConventionalSize, kExtendedSize)),
      writable_(data_.size()),
      write_one_to_clear_(data_.size()) {
  set_u16(reg::kVendorId, identity.vendor_id);
  set_u16(reg::kDeviceId, identity.device_id);
  set_u8(reg::kRevisionId, identity.revision);
  set_u8(reg::kClassCode, identity.programming_interface);
  set_u8(reg::kClassCode + 1, identity.subclass);
  set_u8(reg::kClassCode + 2, identity.base_class);
  set_u16(reg::kSubsystemVendorId, identity.subsystem_vendor_id);
  set_u16(reg::kSubsystemId, identity.subsystem_id);
  set_writable(reg::kCommand, 1, kCommandWritable & 0xff);
  set_writable(reg::kCommand + 1, 1, kCommandWritable >> 8);
  set_write_one_to_clear(reg::kStatus + 1, 1, kStatusErrorBits >> 8);
  set_writable(reg::kCacheLineSize, 2);  // cache line size, latency timer (6.2.4)
  set_writable(reg::kInterruptLine, 1);  // 6.2.4: written by configuration software
}

uint16_t ConfigSpace::u16(uint16_t offset) const {
  return load_le<uint16_t>(&data_[offset]);
}
uint32_t ConfigSpace::u32(uint16_t offset) const {
  return load_le<uint32_t>(&data_[offset]);
}
void ConfigSpace::set_u16(uint16_t offset, uint16_t value) {
  store_le(&data_[offset], value);
}
void ConfigSpace::set_u32(uint16_t offset, uint32_t value) {
  store_le(&data_[offset], value);
}

void ConfigSpace::set_writable(uint16_t offset, size_t length, uint8_t mask) {
  for (size_t i = offset; i < offset + length && i < data_.size(); ++i) writable_[i] = mask;
}
void ConfigSpace::set_write_one_to_clear(uint16_t offset, size_t length, uint8_t mask) {
  for (size_t i = offset; i < offset + length && i < data_.size(); ++i) {
    write_one_to_clear_[i] = mask;
  }
}

uint32_t ConfigSpace::read(uint16_t offset, unsigned size) const {
  uint32_t value = 0;
  for (unsigned i = 0; i < size && i < 4; ++i) {
    const size_t at = size_t{offset} + i;
    if (at < data_.size()) value |= uint32_t{data_[at]} << (8 * i);
  }
  return value;
}

void ConfigSpace::write(uint16_t offset, unsigned size, uint32_t value) {
  for (unsigned i = 0; i < size && i < 4; ++i) {
    const size_t at = size_t{offset} + i;
    if (at >= data_.size()) break;
    const auto byte = static_cast<uint8_t>(value >> (8 * i));
    data_[at] = static_cast<uint8_t>((data_[at] & ~writable_[at]) | (byte & writable_[at]));
    data_[at] &= static_cast<uint8_t>(~(byte & write_one_to_clear_[at]));
  }
  update_bars();
  if (write_listener_) write_listener_(offset, size);
}

Result<void> ConfigSpace::add_bar(unsigned index, BarKind kind, uint64_t size, bool prefetchable) {
  const unsigned slots = kind == BarKind::kMemory64 ? 2 : 1;
  const uint64_t minimum = kind == BarKind::kIo ? 4 : 16;
  if (index + slots > kBarCount) return make_error("pci: BAR {} does not fit the header", index);
  if (bars_[index].present || bars_[index].upper_half ||
      (slots == 2 && (bars_[index + 1].present || bars_[index + 1].upper_half))) {
    return make_error("pci: BAR {} is already defined", index);
  }
  if (!is_power_of_two(size) || size < minimum ||
      (kind != BarKind::kMemory64 && size > (uint64_t{1} << 31)) ||
      (kind == BarKind::kIo && size > 256)) {  // 6.2.5.1: I/O BARs claim at most 256 bytes
    return make_error("pci: BAR {} size {:#x} is not a valid power of two", index, size);
  }
  const uint64_t address_mask = ~(size - 1);
  const auto offset = static_cast<uint16_t>(reg::kBar0 + 4 * index);
  uint32_t flags = 0;
  if (kind == BarKind::kIo) flags = kBarIoFlag;
  if (kind == BarKind::kMemory64) flags = kBarMemory64Type;
  if (prefetchable && kind != BarKind::kIo) flags |= kBarPrefetchable;
  set_u32(offset, flags);
  const uint32_t low_mask =
      static_cast<uint32_t>(address_mask) & (kind == BarKind::kIo ? ~3u : ~15u);
  for (unsigned b = 0; b < 4; ++b)
    set_writable(offset + b, 1, static_cast<uint8_t>(low_mask >> (8 * b)));
  if (slots == 2) {
    set_u32(offset + 4, 0);
    const auto high_mask = static_cast<uint32_t>(address_mask >> 32);
    for (unsigned b = 0; b < 4; ++b) {
      set_writable(offset + 4 + b, 1, static_cast<uint8_t>(high_mask >> (8 * b)));
    }
    bars_[index + 1].upper_half = true;
  }
  bars_[index] = Bar{true, false, kind, size, std::nullopt};
  return ok();
}

// A BAR decodes when its space is enabled in the command register and its address is usable:
// not zero, and the range ending below the last byte of its address space (a BAR being sized
// holds the all-ones mask, which would end there).
std::optional<uint64_t> ConfigSpace::decode(unsigned index) const {
  const Bar& bar = bars_[index];
  if (!bar.present) return std::nullopt;
  const auto offset = static_cast<uint16_t>(reg::kBar0 + 4 * index);
  const uint16_t command = u16(reg::kCommand);
  uint64_t base = 0;
  uint64_t limit = 0xffffffff;
  if (bar.kind == BarKind::kIo) {
    if ((command & kCommandIoSpace) == 0) return std::nullopt;
    base = u32(offset) & ~3u;
  } else {
    if ((command & kCommandMemorySpace) == 0) return std::nullopt;
    base = u32(offset) & ~15u;
    if (bar.kind == BarKind::kMemory64) {
      base |= uint64_t{u32(offset + 4)} << 32;
      limit = ~uint64_t{0};
    }
  }
  if (base == 0 || bar.size - 1 >= limit - base) return std::nullopt;
  return base;
}

std::optional<uint64_t> ConfigSpace::bar_base(unsigned index) const {
  return index < kBarCount ? decode(index) : std::nullopt;
}

std::optional<ConfigSpace::BarDefinition> ConfigSpace::bar_definition(unsigned index) const {
  if (index >= kBarCount || !bars_[index].present) return std::nullopt;
  return BarDefinition{bars_[index].kind, bars_[index].size};
}

void ConfigSpace::update_bars() {
  for (unsigned i = 0; i < kBarCount; ++i) {
    Bar& bar = bars_[i];
    if (!bar.present) continue;
    const std::optional<uint64_t> now = decode(i);
    if (now == bar.decoded) continue;
    const BarChange change{i, bar.kind, bar.size, bar.decoded, now};
    bar.decoded = now;
    if (bar_listener_) bar_listener_(change);
  }
}

uint8_t ConfigSpace::add_capability(uint8_t id, uint8_t length) {
  const uint16_t offset = next_capability_;
  if (length < 2 || offset + length > kConventionalSize) return 0;
  set_u8(offset, id);
  set_u8(offset + 1, 0);  // the end of the list
  set_u8(last_capability_ == 0 ? reg::kCapabilitiesPointer : last_capability_ + 1,
         static_cast<uint8_t>(offset));
  set_u16(reg::kStatus, u16(reg::kStatus) | kStatusCapabilitiesList);
  last_capability_ = static_cast<uint8_t>(offset);
  next_capability_ = static_cast<uint16_t>(align_up(offset + length, 4));  // 6.7: dword aligned
  return last_capability_;
}

void ConfigSpace::save(snapshot::StateWriter& out) const {
  out.begin_section("pci-config", kStateVersion);
  out.u32(static_cast<uint32_t>(data_.size()));
  out.bytes(data_);
  out.end_section();
}

Result<void> ConfigSpace::load(snapshot::StateReader& in) {
  CELLA_TRY(in.begin_section("pci-config", kStateVersion));
  CELLA_TRY_ASSIGN(size, in.u32());
  if (size != data_.size()) {
    return make_error("pci config state: {} bytes, this function has {}", size, data_.size());
  }
  std::vector<uint8_t> saved(size);
  CELLA_TRY(in.bytes(saved));
  CELLA_TRY(in.end_section());
  for (const auto& [offset, length] : kIdentityRanges) {
    if (!std::equal(saved.begin() + offset, saved.begin() + offset + length,
                    data_.begin() + offset)) {
      return make_error("pci config state: saved from another device (header bytes {:#x}-{:#x})",
                        offset, offset + length - 1);
    }
  }
  // Read-only BAR bits stay this function's; everything else is the saved state.
  for (size_t i = 0; i < saved.size(); ++i) {
    const bool bar_byte = i >= reg::kBar0 && i < reg::kBar0 + 4 * kBarCount;
    data_[i] = bar_byte
                   ? static_cast<uint8_t>((saved[i] & writable_[i]) | (data_[i] & ~writable_[i]))
                   : saved[i];
  }
  update_bars();
  return ok();
}

}  // namespace cella::pci
