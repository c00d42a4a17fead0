#include "devices/acpi_pm/acpi_pm.h"

namespace cella::devices {
namespace {

// ACPI 6.5 4.8.3: register offsets in the block and their bits.
constexpr uint64_t kStatus = 0, kEnable = 2, kControl = 4, kTimer = 8;
constexpr uint16_t kTimerStatus = 1 << 0, kPowerButtonStatus = 1 << 8, kWakeStatus = 1 << 15;
constexpr uint16_t kStatusBits = kTimerStatus | kPowerButtonStatus | kWakeStatus;
// TMR_EN, PWRBTN_EN; GBL_EN (bit 5) and RTC_EN (bit 10) are kept for the guest to read back,
// but nothing here sets their status bits (no firmware shares the global lock; RTC alarms do
// not wake a running machine).
constexpr uint16_t kGlobalEnable = 1 << 5, kRtcEnable = 1 << 10;
constexpr uint16_t kEnableBits = kTimerStatus | kPowerButtonStatus | kGlobalEnable | kRtcEnable;
constexpr uint16_t kSciEnable = 1 << 0, kSleepEnable = 1 << 13;
constexpr unsigned kSleepTypeShift = 10;
constexpr uint16_t kSleepTypeMask = 7 << kSleepTypeShift;
constexpr uint32_t kTimerMask = 0xffffff;
constexpr uint64_t kNsPerSecond = 1'000'000'000;

// Reads of a register of `width` bytes at `offset`, from a byte access at any offset within.
uint64_t slice(uint64_t value, uint64_t byte_offset, size_t size) {
  const uint64_t shifted = value >> (8 * byte_offset);
  return size >= 8 ? shifted : shifted & ((uint64_t{1} << (8 * size)) - 1);
}

}  // namespace

AcpiPm::AcpiPm(TimerQueue& timers, IrqLine sci, uint8_t s5_sleep_type,
               std::function<void()> power_off)
    : timers_(timers),
      sci_(sci),
      s5_sleep_type_(s5_sleep_type),
      power_off_(std::move(power_off)),
      carry_timer_([this] {
        status_ |= kTimerStatus;
        update_sci();
        arm_timer();
      }) {
  reset();
}

AcpiPm::~AcpiPm() = default;

void AcpiPm::reset() {
  status_ = 0;
  enable_ = 0;
  control_ = kSciEnable;
  timer_origin_ns_ = timers_.now_ns();
  timers_.cancel(carry_timer_);
  sci_.lower();
}

uint32_t AcpiPm::timer_value() const {
  const uint64_t elapsed = timers_.now_ns() - timer_origin_ns_;
  // ticks = elapsed * f / 1e9 without overflow for centuries of uptime.
  const unsigned __int128 ticks = static_cast<unsigned __int128>(elapsed) * kTimerHz / kNsPerSecond;
  return static_cast<uint32_t>(ticks) & kTimerMask;
}

// 4.8.3.3: TMR_STS is set whenever bit 23 of the counter changes.
uint64_t AcpiPm::next_timer_carry_ns() const {
  const uint64_t elapsed = timers_.now_ns() - timer_origin_ns_;
  const unsigned __int128 ticks = static_cast<unsigned __int128>(elapsed) * kTimerHz / kNsPerSecond;
  const unsigned __int128 next = (ticks | 0x7fffff) + 1;
  const unsigned __int128 ns = (next * kNsPerSecond + kTimerHz - 1) / kTimerHz;
  return timer_origin_ns_ + static_cast<uint64_t>(ns);
}

void AcpiPm::arm_timer() {
  if (enable_ & kTimerStatus) {
    timers_.arm(carry_timer_, next_timer_carry_ns());
  } else {
    timers_.cancel(carry_timer_);
  }
}

void AcpiPm::update_sci() {
  const bool level = (status_ & enable_ & kEnableBits) != 0;
  if (level && !sci_.level()) ++metrics_.sci_raised;
  sci_.set(level);
}

void AcpiPm::read(uint64_t offset, std::span<uint8_t> data) {
  uint64_t value = ~0ull;
  if (offset < kEnable) {
    value = slice(status_, offset - kStatus, data.size());
  } else if (offset < kControl) {
    value = slice(enable_, offset - kEnable, data.size());
  } else if (offset < kControl + 2) {
    value = slice(control_, offset - kControl, data.size());
  } else if (offset >= kTimer) {
    value = slice(timer_value(), offset - kTimer, data.size());
  }
  fill_access(data, value);
}

void AcpiPm::write(uint64_t offset, std::span<const uint8_t> data) {
  const uint64_t value = access_value(data);
  // Registers are written as wholes or in bytes; a byte write touches its byte only.
  auto merge = [&](uint16_t old, uint64_t base) {
    uint16_t result = old;
    for (size_t i = 0; i < data.size(); ++i) {
      const uint64_t byte = offset + i - base;
      if (byte >= 2) break;
      result = static_cast<uint16_t>((result & ~(0xff << (8 * byte))) |
                                     (((value >> (8 * i)) & 0xff) << (8 * byte)));
    }
    return result;
  };
  if (offset < kEnable) {
    const uint16_t written = merge(0, kStatus);
    status_ &= static_cast<uint16_t>(~(written & kStatusBits));  // write 1 to clear
    update_sci();
  } else if (offset < kControl) {
    enable_ = merge(enable_, kEnable) & kEnableBits;
    update_sci();
    arm_timer();
  } else if (offset < kControl + 2) {
    const uint16_t written = merge(control_, kControl);
    // SCI_EN stays 1 (no legacy mode to return to); SLP_EN is write-only.
    control_ = static_cast<uint16_t>((written & ~kSleepEnable) | kSciEnable);
    if (written & kSleepEnable) {
      ++metrics_.sleep_requests;
      const unsigned type = (written & kSleepTypeMask) >> kSleepTypeShift;
      if (type == s5_sleep_type_ && power_off_) power_off_();
      // Other sleep states (S1-S4) are not offered in the DSDT; a request for one is ignored.
    }
  }
  // PM_TMR is read-only.
}

void AcpiPm::request_power_button() {
  status_ |= kPowerButtonStatus;
  update_sci();
}

void AcpiPm::save(snapshot::StateWriter& out) const {
  out.begin_section("acpi-pm", 1);
  out.u16(status_);
  out.u16(enable_);
  out.u16(control_);
  out.u32(timer_value());
  out.end_section();
}

Result<void> AcpiPm::load(snapshot::StateReader& in) {
  CELLA_TRY(in.begin_section("acpi-pm", 1));
  CELLA_TRY_ASSIGN(status, in.u16());
  CELLA_TRY_ASSIGN(enable, in.u16());
  CELLA_TRY_ASSIGN(control, in.u16());
  CELLA_TRY_ASSIGN(timer, in.u32());
  CELLA_TRY(in.end_section());
  status_ = status & kStatusBits;
  enable_ = enable & kEnableBits;
  control_ = static_cast<uint16_t>((control & ~kSleepEnable) | kSciEnable);
  // Continue the counter from its saved value on this machine's clock.
  const uint64_t saved_ns = uint64_t{timer & kTimerMask} * kNsPerSecond / kTimerHz;
  timer_origin_ns_ = timers_.now_ns() - saved_ns;
  update_sci();
  arm_timer();
  return ok();
}

}  // namespace cella::devices
