// The ACPI fixed-hardware power management registers (ACPI 6.5 4.8, "Fixed Hardware
// Programming Model"), in port I/O as the FADT declares them (machine/acpi/tables.h):
//   +0  PM1a_STS (16 bits)  4.8.3.1.1 PM1 Status: TMR_STS (0), PWRBTN_STS (8), WAK_STS (15);
//                           write 1 to clear
//   +2  PM1a_EN  (16 bits)  4.8.3.1.2 PM1 Enable: TMR_EN (0), PWRBTN_EN (8)
//   +4  PM1a_CNT (16 bits)  4.8.3.2.1 PM1 Control: SCI_EN (0), SLP_TYPx (12:10), SLP_EN (13)
//   +8  PM_TMR   (32 bits)  4.8.3.3 Power Management Timer: a 24-bit counter at 3.579545 MHz
// There is no SMI_CMD, so the machine is always in ACPI mode (SCI_EN reads 1). Writing SLP_EN
// with SLP_TYP = the \_S5 value powers the machine off (the callback); a power-button press
// from the host (request_power_button) raises the SCI for a clean guest shutdown.
#pragma once

#include <cstdint>
#include <functional>

#include "devices/device.h"
#include "devices/irq.h"
#include "devices/timer_queue.h"

namespace cella::devices {

class AcpiPm final : public Device {
 public:
  static constexpr uint64_t kRegisterBytes = 12;
  static constexpr uint64_t kTimerHz = 3'579'545;

  struct Metrics {
    uint64_t sci_raised = 0;
    uint64_t sleep_requests = 0;
  };

  // `power_off` runs when the guest enters S5; `s5_sleep_type` is the \_S5 SLP_TYP value.
  AcpiPm(TimerQueue& timers, IrqLine sci, uint8_t s5_sleep_type, std::function<void()> power_off);
  ~AcpiPm() override;

  std::string_view name() const override { return "acpi-pm"; }
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;
  void reset() override;
  void save(snapshot::StateWriter& out) const override;
  Result<void> load(snapshot::StateReader& in) override;

  // The host's "power button": the guest sees PWRBTN_STS and an SCI if it enabled them.
  void request_power_button();
  const Metrics& metrics() const { return metrics_; }

 private:
  uint32_t timer_value() const;
  uint64_t next_timer_carry_ns() const;
  void update_sci();
  void arm_timer();

  TimerQueue& timers_;
  IrqLine sci_;
  uint8_t s5_sleep_type_;
  std::function<void()> power_off_;
  Timer carry_timer_;  // fires when PM_TMR bit 23 toggles, for TMR_STS

  uint16_t status_ = 0;
  uint16_t enable_ = 0;
  uint16_t control_ = 0;
  uint64_t timer_origin_ns_ = 0;  // clock time at which PM_TMR read 0
  Metrics metrics_;
};

}  // namespace cella::devices
