// The host bridge's two ways into configuration space, both as Devices the machine maps:
// configuration mechanism #1 (PCI Local Bus 3.0 3.2.2.3.2: CONFIG_ADDRESS at port 0xcf8,
// CONFIG_DATA at 0xcfc-0xcff) and the PCI Express enhanced configuration access mechanism
// (ECAM, PCIe Base 4.0 7.2.2: one 4 KiB page per function in an MMIO window the MCFG table
// declares).
#pragma once

#include <cstdint>

#include "devices/device.h"
#include "pci/pci_bus.h"

namespace cella::pci {

class ConfigPorts final : public devices::Device {
 public:
  static constexpr uint16_t kBase = 0xcf8;
  static constexpr uint16_t kLength = 8;
  // CONFIG_ADDRESS (3.2.2.3.2, Figure 3-1): enable bit 31, bus 23:16, device 15:11,
  // function 10:8, register 7:2; the other bits are reserved.
  static constexpr uint32_t kEnable = 1u << 31;
  static constexpr uint32_t kAddressWritable = 0x80fffffc;

  explicit ConfigPorts(PciBus& bus) : bus_(bus) {}

  std::string_view name() const override { return "pci-config-ports"; }
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;
  void reset() override { address_ = 0; }
  void save(snapshot::StateWriter& out) const override;
  Result<void> load(snapshot::StateReader& in) override;

 private:
  PciBus& bus_;
  uint32_t address_ = 0;
};

class Ecam final : public devices::Device {
 public:
  static constexpr uint64_t kDefaultBase = 0xb0000000;
  static constexpr uint64_t kBytesPerBus = 1ull << 20;  // 32 devices x 8 functions x 4 KiB

  // The window covers buses [0, bus_count); only bus 0 has functions.
  explicit Ecam(PciBus& bus, unsigned bus_count = 1) : bus_(bus), bus_count_(bus_count) {}
  uint64_t size() const { return bus_count_ * kBytesPerBus; }

  std::string_view name() const override { return "pci-ecam"; }
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;
  void reset() override {}
  void save(snapshot::StateWriter& out) const override;  // stateless: an empty section
  Result<void> load(snapshot::StateReader& in) override;

 private:
  PciBus& bus_;
  unsigned bus_count_;
};

}  // namespace cella::pci
