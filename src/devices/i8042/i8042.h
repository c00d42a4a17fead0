// The 8042 keyboard controller of a PC/AT (IBM PC/AT Technical Reference, "Keyboard
// Controller"; the PS/2 controller command set of the IBM PS/2 Hardware Interface Technical
// Reference): data port 0x60, status/command port 0x64, IRQ 1 (keyboard) and IRQ 12 (aux).
// It answers what Linux's i8042 driver probes (self-tests, the command byte, port enable and
// disable, the aux loopback), drives the CPU reset line (command 0xFE, output port bit 0)
// and the A20 gate through callbacks, and has no keyboard or mouse attached: bytes sent to
// either device are answered with 0xFE and the time-out status bit, as by a controller with
// nothing plugged in.
//
// Register offsets (mapped through DeviceWindows at kPorts): 0 data, 4 status/command.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>

#include "devices/device.h"
#include "devices/device_window.h"
#include "devices/irq.h"

namespace cella::devices {

class I8042 final : public Device {
 public:
  static constexpr uint64_t kDataOffset = 0;
  static constexpr uint64_t kCommandOffset = 4;
  static constexpr std::array<PortRange, 2> kPorts = {{
      {0x60, 1, kDataOffset},
      {0x64, 1, kCommandOffset},
  }};
  static constexpr uint32_t kKeyboardIrq = 1;
  static constexpr uint32_t kAuxIrq = 12;

  struct Metrics {
    uint64_t resets = 0;      // CPU resets requested (command 0xFE, output port, port 0x92)
    uint64_t bytes_read = 0;  // output-buffer bytes the guest read
    uint64_t no_device = 0;   // bytes sent to the absent keyboard or mouse
  };

  I8042(IrqLine keyboard_irq, IrqLine aux_irq);

  std::string_view name() const override { return "i8042"; }
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;
  void reset() override;
  void save(snapshot::StateWriter& out) const override;
  Result<void> load(snapshot::StateReader& in) override;

  // The machine's hooks: a pulse on the CPU's reset line, and the A20 gate (true: address
  // line 20 passes through). Both may be left unset.
  void set_on_reset(std::function<void()> callback) { on_reset_ = std::move(callback); }
  void set_on_a20(std::function<void(bool)> callback) { on_a20_ = std::move(callback); }
  bool a20_enabled() const;

  // System control port A (0x92, port92.h) shares the reset line and ORs its A20 bit in.
  void set_fast_a20(bool enabled);
  void pulse_reset();

  const Metrics& metrics() const { return metrics_; }

 private:
  static constexpr size_t kOutputLimit = 16;  // responses the guest can have queued at once

  struct OutputByte {
    uint8_t value;
    bool aux;
    bool timeout;  // the byte reports a device time-out (status bit 6)
  };

  uint8_t status() const;
  uint8_t read_data();
  void write_command(uint8_t command);
  void write_data(uint8_t value);
  void write_output_port(uint8_t value);
  void push_output(uint8_t value, bool aux, bool timeout = false);
  void update_irqs();

  IrqLine keyboard_irq_;
  IrqLine aux_irq_;
  std::function<void()> on_reset_;
  std::function<void(bool)> on_a20_;
  Metrics metrics_;

  std::array<uint8_t, 32> ram_{};  // byte 0 is the controller command byte (CTR)
  std::deque<OutputByte> output_;
  uint8_t pending_command_ = 0;  // a command waiting for its data byte, or 0
  bool last_write_command_ = false;
  uint8_t output_port_ = 0;
  bool fast_a20_ = false;
};

}  // namespace cella::devices
