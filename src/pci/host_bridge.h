// The host bridge at 00:00.0 (PCI Local Bus 3.0 6.1; class 06h/00h, PCI Code and ID
// Assignment 1.11 Table D-7). It has no BARs and claims no resources; it exists so
// configuration software finds a bridge to the processor at the root.
#pragma once

#include "pci/config_space.h"
#include "pci/pci_bus.h"

namespace cella::pci {

class HostBridge {
 public:
  // Intel's 82G33/Q35 memory controller hub IDs: a PCI Express host bridge, matching the
  // ECAM window the machine declares; Linux binds nothing to it beyond the generic code.
  static constexpr FunctionIdentity kIdentity{
      .vendor_id = 0x8086, .device_id = 0x29c0, .base_class = 0x06, .subclass = 0x00};

  HostBridge();
  Result<void> attach(PciBus& bus) { return bus.add(0, 0, config_); }
  ConfigSpace& config() { return config_; }

 private:
  ConfigSpace config_;
};

}  // namespace cella::pci
