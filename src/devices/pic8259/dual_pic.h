// The PC/AT pair of 8259A PICs: master at ports 0x20-0x21 (IRQ 0-7), slave at 0xa0-0xa1
// (IRQ 8-15) cascaded on the master's IR2, and the edge/level control registers (ELCR) at
// 0x4d0-0x4d1 (Intel 82371AB PIIX4 datasheet 4.1.11 "ELCR1/ELCR2"). Inputs arrive through
// set_irq() from the machine's interrupt router; the master's INT goes to the CPU through
// interrupt_output() and an on-change callback, and acknowledge() is the INTA cycle.
//
// Register offsets (one space, mapped through DeviceWindows at kPorts): 0-1 master, 2-3 slave,
// 4-5 ELCR1 (IRQ 0-7) and ELCR2 (IRQ 8-15).
#pragma once

#include <array>
#include <cstdint>
#include <functional>

#include "devices/device.h"
#include "devices/device_window.h"
#include "devices/pic8259/pic8259_chip.h"

namespace cella::devices {

class DualPic final : public Device {
 public:
  static constexpr uint64_t kMasterOffset = 0;
  static constexpr uint64_t kSlaveOffset = 2;
  static constexpr uint64_t kElcrOffset = 4;
  static constexpr std::array<PortRange, 3> kPorts = {{
      {0x20, 2, kMasterOffset},
      {0xa0, 2, kSlaveOffset},
      {0x4d0, 2, kElcrOffset},
  }};
  static constexpr unsigned kCascadeLine = 2;
  // PIIX4 4.1.11: IRQ 0, 1, 2, 8 and 13 are always edge-triggered (their ELCR bits read 0).
  static constexpr uint8_t kElcr1Writable = 0xf8;
  static constexpr uint8_t kElcr2Writable = 0xde;

  struct Metrics {
    uint64_t acknowledged = 0;  // INTA cycles that delivered a vector
    uint64_t spurious = 0;      // INTA cycles answered with IR7 of either chip
  };

  DualPic();

  std::string_view name() const override { return "pic8259"; }
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;
  void reset() override;
  void save(snapshot::StateWriter& out) const override;
  Result<void> load(snapshot::StateReader& in) override;

  // Input `line` (0-15) at `level`; edge-triggered inputs request on the rising edge.
  void set_irq(unsigned line, bool level);
  bool interrupt_output() const { return output_; }
  void set_on_output_change(std::function<void(bool)> callback) {
    on_output_change_ = std::move(callback);
  }
  // The INTA cycle: the vector of the highest-priority request. With no request left, the
  // spurious vector of IR7 (master) or IR15 (slave, the master's IR2 then being in service).
  uint8_t acknowledge();

  const Metrics& metrics() const { return metrics_; }

 private:
  uint8_t read_register(uint64_t offset);
  void write_register(uint64_t offset, uint8_t value);
  void update();

  Pic8259Chip master_{kCascadeLine};
  Pic8259Chip slave_;
  bool output_ = false;
  std::function<void(bool)> on_output_change_;
  Metrics metrics_;
};

}  // namespace cella::devices
