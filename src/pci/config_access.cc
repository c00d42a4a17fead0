#include "pci/config_access.h"

#include <algorithm>

namespace cella::pci {

namespace {
constexpr uint32_t kStateVersion = 1;

void put(std::span<uint8_t> data, size_t at, unsigned size, uint32_t value) {
  for (unsigned i = 0; i < size; ++i) data[at + i] = static_cast<uint8_t>(value >> (8 * i));
}
uint32_t get(std::span<const uint8_t> data, size_t at, unsigned size) {
  uint32_t value = 0;
  for (unsigned i = 0; i < size; ++i) value |= uint32_t{data[at + i]} << (8 * i);
  return value;
}
}  // namespace

// 3.2.2.3.2: only a doubleword access to 0xcf8 reaches CONFIG_ADDRESS (byte and word accesses
// there are ordinary I/O, unclaimed here); CONFIG_DATA takes any size at 0xcfc-0xcff and runs
// a configuration cycle while the enable bit is set. Only bus 0 exists.
void ConfigPorts::read(uint64_t offset, std::span<uint8_t> data) {
  std::fill(data.begin(), data.end(), uint8_t{0xff});
  if (offset == 0 && data.size() == 4) {
    put(data, 0, 4, address_);
    return;
  }
  if (offset < 4 || offset >= kLength) return;
  if ((address_ & kEnable) == 0 || ((address_ >> 16) & 0xff) != 0) return;
  const auto within = static_cast<unsigned>(offset - 4);
  const unsigned size = std::min<unsigned>(static_cast<unsigned>(data.size()), 4 - within);
  const auto device = static_cast<uint8_t>((address_ >> 11) & 31);
  const auto function = static_cast<uint8_t>((address_ >> 8) & 7);
  put(data, 0, size,
      bus_.read(device, function, static_cast<uint16_t>((address_ & 0xfc) + within), size));
}

void ConfigPorts::write(uint64_t offset, std::span<const uint8_t> data) {
  if (offset == 0 && data.size() == 4) {
    address_ = get(data, 0, 4) & kAddressWritable;
    return;
  }
  if (offset < 4 || offset >= kLength) return;
  if ((address_ & kEnable) == 0 || ((address_ >> 16) & 0xff) != 0) return;
  const auto within = static_cast<unsigned>(offset - 4);
  const unsigned size = std::min<unsigned>(static_cast<unsigned>(data.size()), 4 - within);
  const auto device = static_cast<uint8_t>((address_ >> 11) & 31);
  const auto function = static_cast<uint8_t>((address_ >> 8) & 7);
  bus_.write(device, function, static_cast<uint16_t>((address_ & 0xfc) + within), size,
             get(data, 0, size));
}

void ConfigPorts::save(snapshot::StateWriter& out) const {
  out.begin_section("pci-config-ports", kStateVersion);
  out.u32(address_);
  out.end_section();
}

Result<void> ConfigPorts::load(snapshot::StateReader& in) {
  CELLA_TRY(in.begin_section("pci-config-ports", kStateVersion));
  CELLA_TRY_ASSIGN(address, in.u32());
  address_ = address & kAddressWritable;
  return in.end_section();
}

// PCIe Base 4.0 7.2.2, Table 7-1: address bits 27:20 bus, 19:15 device, 14:12 function,
// 11:0 register. An access is split at doubleword boundaries (accesses wider than a
// doubleword are not required to work, 7.2.2.1; here they act as consecutive doublewords).
void Ecam::read(uint64_t offset, std::span<uint8_t> data) {
  std::fill(data.begin(), data.end(), uint8_t{0xff});
  for (size_t pos = 0; pos < data.size();) {
    const uint64_t at = offset + pos;
    const auto size = static_cast<unsigned>(std::min<uint64_t>(data.size() - pos, 4 - (at & 3)));
    if (at < kBytesPerBus) {  // bus 0
      put(data, pos, size,
          bus_.read(static_cast<uint8_t>((at >> 15) & 31), static_cast<uint8_t>((at >> 12) & 7),
                    static_cast<uint16_t>(at & 0xfff), size));
    }
    pos += size;
  }
}

void Ecam::write(uint64_t offset, std::span<const uint8_t> data) {
  for (size_t pos = 0; pos < data.size();) {
    const uint64_t at = offset + pos;
    const auto size = static_cast<unsigned>(std::min<uint64_t>(data.size() - pos, 4 - (at & 3)));
    if (at < kBytesPerBus) {
      bus_.write(static_cast<uint8_t>((at >> 15) & 31), static_cast<uint8_t>((at >> 12) & 7),
                 static_cast<uint16_t>(at & 0xfff), size, get(data, pos, size));
    }
    pos += size;
  }
}

void Ecam::save(snapshot::StateWriter& out) const {
  out.begin_section("pci-ecam", kStateVersion);
  out.end_section();
}

Result<void> Ecam::load(snapshot::StateReader& in) {
  CELLA_TRY(in.begin_section("pci-ecam", kStateVersion));
  return in.end_section();
}

}  // namespace cella::pci
