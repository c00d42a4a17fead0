// System control port B at 0x61 (IBM PC/AT Technical Reference, "System Control Port B";
// Intel 82371AB PIIX4 datasheet 4.1.13 "NMISC"): bit 0 gates PIT counter 2, bit 1 enables
// the speaker data, bits 2-3 mask the parity/IOCHK NMIs; reads add the refresh toggle (bit 4,
// every 15.085 us) and counter 2's OUT (bit 5), which Linux's PIT-based TSC calibration polls.
// The speaker itself makes no sound here.
#pragma once

#include <cstdint>

#include "devices/device.h"
#include "devices/pit8254/pit8254.h"

namespace cella::devices {

class SystemControlPortB final : public Device {
 public:
  static constexpr uint16_t kPort = 0x61;

  SystemControlPortB(TimerQueue& timers, Pit8254& pit) : timers_(timers), pit_(pit) {}

  std::string_view name() const override { return "port61"; }
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;
  void reset() override;
  void save(snapshot::StateWriter& out) const override;
  Result<void> load(snapshot::StateReader& in) override;

 private:
  TimerQueue& timers_;
  Pit8254& pit_;
  uint8_t control_ = 0;  // bits 3:0 as written (bit 0 is also counter 2's gate)
};

}  // namespace cella::devices
