// The Intel 8254 programmable interval timer of a PC (8254 datasheet, Intel order 231164):
// three counters at ports 0x40-0x42 and the control word register at 0x43. Counter 0 drives
// IRQ 0, counter 2's gate and output are wired to system control port B (0x61, see
// port61.h), counter 1 (DRAM refresh on old PCs) runs free. Counts follow the TimerQueue's
// clock at 1.193182 MHz; a timer is armed only when counter 0's OUT will rise (an interrupt).
#pragma once

#include <array>
#include <cstdint>

#include "devices/device.h"
#include "devices/irq.h"
#include "devices/pit8254/pit_channel.h"
#include "devices/timer_queue.h"

namespace cella::devices {

class Pit8254 final : public Device {
 public:
  static constexpr uint16_t kPort = 0x40;
  static constexpr uint64_t kLength = 4;
  static constexpr uint64_t kControlOffset = 3;
  static constexpr uint32_t kIrq = 0;

  struct Metrics {
    uint64_t interrupts = 0;  // rising edges of counter 0's OUT delivered on IRQ 0
  };

  Pit8254(TimerQueue& timers, IrqLine irq);

  std::string_view name() const override { return "pit8254"; }
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;
  void reset() override;
  void save(snapshot::StateWriter& out) const override;
  Result<void> load(snapshot::StateReader& in) override;

  // The GATE inputs (counter 2's from port 0x61; 0 and 1 are tied high on a PC) and OUT pins.
  void set_gate(unsigned channel, bool level);
  bool gate(unsigned channel) const { return channels_[channel % 3].gate(); }
  bool output(unsigned channel) const;

  const Metrics& metrics() const { return metrics_; }

 private:
  uint64_t now_tick() const;
  uint8_t read_register(uint64_t offset);
  void write_register(uint64_t offset, uint8_t value);
  void write_control(uint8_t value);
  void update_irq();
  void on_timer();

  TimerQueue& timers_;
  IrqLine irq_;
  Timer timer_;
  std::array<PitChannel, 3> channels_;
  Metrics metrics_;
};

}  // namespace cella::devices
