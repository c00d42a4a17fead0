// The MC146818A-compatible real-time clock and CMOS memory of a PC (Motorola MC146818A
// datasheet; Intel 82371AB PIIX4 datasheet 4.8 "Real Time Clock Registers"): index port 0x70
// (bit 7 disables NMI), data port 0x71, IRQ 8. The date and time follow the Clock's wall time
// plus an offset the guest sets, in BCD or binary, 12- or 24-hour form; registers A-D with
// the update-in-progress window, periodic, alarm and update-ended interrupts; 128 bytes of
// CMOS memory with the century byte (0x32) and the memory-size bytes the machine fills in.
#pragma once

#include <array>
#include <cstdint>

#include "devices/device.h"
#include "devices/irq.h"
#include "devices/rtc/civil_time.h"
#include "devices/timer_queue.h"

namespace cella::devices {

class CmosRtc final : public Device {
 public:
  static constexpr uint16_t kPort = 0x70;
  static constexpr uint64_t kLength = 2;
  static constexpr uint32_t kIrq = 8;

  struct Metrics {
    uint64_t interrupts = 0;  // rising edges of IRQ 8
    uint64_t time_sets = 0;   // guest writes to the date and time
  };

  CmosRtc(TimerQueue& timers, IrqLine irq);

  std::string_view name() const override { return "cmos_rtc"; }
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;
  // Keeps the CMOS memory and the time (battery-backed); clears the interrupt enables.
  void reset() override;
  void save(snapshot::StateWriter& out) const override;
  Result<void> load(snapshot::StateReader& in) override;

  // For the machine: CMOS bytes firmware reads (clock registers excepted), and the memory
  // size in the standard bytes (0x15-0x18, 0x30-0x31, 0x34-0x35, 0x5b-0x5d) plus checksum.
  void set_cmos_byte(uint8_t index, uint8_t value);
  void set_memory_size(uint64_t below_4g_bytes, uint64_t above_4g_bytes);
  bool nmi_disabled() const { return nmi_disabled_; }

  const Metrics& metrics() const { return metrics_; }

 private:
  int64_t rtc_ns() const;
  bool halted() const;
  uint8_t read_register(uint8_t index);
  void write_register(uint8_t index, uint8_t value);
  uint8_t encode(unsigned value) const;
  unsigned decode(uint8_t value) const;
  uint8_t encode_hour(int hour) const;
  int decode_hour(uint8_t value) const;
  uint8_t read_time_field(uint8_t index) const;
  void write_time_field(uint8_t index, uint8_t value);
  void set_rtc_ns(int64_t ns);
  void freeze(int64_t ns);
  void thaw(bool divider_restarted);
  void write_register_a(uint8_t value);
  void write_register_b(uint8_t value);
  void write_control(uint8_t index, uint8_t value);
  CivilTime shown_time() const;
  void update_flags();
  void update_irq();
  void arm_timer();
  int64_t next_event_ns() const;
  int64_t next_alarm_after(int64_t seconds) const;
  void update_checksum();

  TimerQueue& timers_;
  IrqLine irq_;
  Timer timer_;
  Metrics metrics_;

  std::array<uint8_t, 128> cmos_{};  // registers A and B, alarms and the memory bytes
  uint8_t index_ = 0;
  bool nmi_disabled_ = false;
  int64_t offset_ns_ = 0;  // guest time = wall time + offset while running
  // While halted (SET, or the divider in reset) the fields hold what the guest wrote, each on
  // its own (the day may be written before the month), and the divider's phase is kept.
  CivilTime frozen_{1970, 1, 1, 0, 0, 0, 4};
  int64_t frozen_fraction_ns_ = 0;
  int weekday_adjust_ = 0;        // day-of-week as written by the guest, relative to the date
  uint8_t flags_ = 0;             // register C: PF, AF, UF
  int64_t flags_checked_ns_ = 0;  // guest time up to which the flags were brought up to date
};

}  // namespace cella::devices
