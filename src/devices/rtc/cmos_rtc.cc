#include "devices/rtc/cmos_rtc.h"

#include <algorithm>
#include <limits>

#include "base/bits.h"
#include "devices/rtc/cmos_rtc_registers.h"

namespace cella::devices {

using namespace rtc;

namespace {

constexpr int64_t kNsPerSecond = 1'000'000'000;
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
// The date range the guest may set: the two-digit year plus a century of 19, 20 or 21.
const int64_t kEarliest = seconds_from_civil({1900, 1, 1, 0, 0, 0, 0});
const int64_t kLatest = seconds_from_civil({2199, 12, 31, 23, 59, 59, 0});

// Guest time in 1/32768 s units of the divider chain.
int64_t time_base_units(int64_t ns) {
  const __int128 scaled = static_cast<__int128>(ns) * kTimeBaseHz;
  __int128 q = scaled / kNsPerSecond;
  if (scaled % kNsPerSecond != 0 && scaled < 0) --q;
  return static_cast<int64_t>(q);
}
int64_t units_to_ns(int64_t units) {  // rounded up: the first nanosecond of the unit
  const __int128 scaled = static_cast<__int128>(units) * kNsPerSecond;
  __int128 q = scaled / kTimeBaseHz;
  if (scaled % kTimeBaseHz != 0 && scaled > 0) ++q;
  return static_cast<int64_t>(q);
}

// Datasheet Table 5 "Periodic Interrupt Rate": RS 1 and 2 repeat rates 8 and 9's neighbours
// (256 and 128 Hz), RS n >= 3 gives 65536 >> n Hz. In time-base units.
int64_t periodic_units(uint8_t rate_select) {
  if (rate_select == 0) return 0;
  if (rate_select <= 2) return rate_select == 1 ? 128 : 256;
  return int64_t{1} << (rate_select - 1);
}

}  // namespace

CmosRtc::CmosRtc(TimerQueue& timers, IrqLine irq)
    : timers_(timers), irq_(irq), timer_([this] {
        update_flags();
        update_irq();
        arm_timer();
      }) {
  cmos_[kRegisterA] = kADivider32k | 0x06;  // 1024 Hz periodic rate, as PC firmware leaves it
  cmos_[kRegisterB] = kB24Hour;
  set_memory_size(0, 0);
  flags_checked_ns_ = rtc_ns();
}

void CmosRtc::reset() {
  // Datasheet "RESET": PIE, AIE, UIE, SQWE and the flags are cleared; the clock keeps time.
  update_flags();
  cmos_[kRegisterB] &= static_cast<uint8_t>(~(kBInterruptEnables | kBSquareWave));
  flags_ = 0;
  index_ = 0;
  nmi_disabled_ = false;
  update_irq();
  arm_timer();
}

bool CmosRtc::halted() const {
  return (cmos_[kRegisterB] & kBSet) != 0 || (cmos_[kRegisterA] & kADividerMask) != kADivider32k;
}

int64_t CmosRtc::rtc_ns() const {
  if (halted()) {
    return std::clamp(seconds_from_civil(frozen_), kEarliest, kLatest) * kNsPerSecond +
           frozen_fraction_ns_;
  }
  // Saturating: a snapshot from another clock may carry any offset.
  int64_t ns;
  if (__builtin_add_overflow(static_cast<int64_t>(timers_.clock().wall_ns()), offset_ns_, &ns)) {
    ns = offset_ns_ > 0 ? std::numeric_limits<int64_t>::max() : 0;
  }
  return std::clamp(ns, kEarliest * kNsPerSecond, kLatest * kNsPerSecond + kNsPerSecond - 1);
}

void CmosRtc::set_rtc_ns(int64_t ns) {
  offset_ns_ = ns - static_cast<int64_t>(timers_.clock().wall_ns());
  flags_checked_ns_ = ns;  // a jump in time raises no flags for the skipped interval
}

CivilTime CmosRtc::shown_time() const {
  if (halted()) return frozen_;
  CivilTime t = civil_from_seconds(floor_div(rtc_ns(), kNsPerSecond));
  t.weekday = (t.weekday + weekday_adjust_) % 7;
  return t;
}

void CmosRtc::freeze(int64_t ns) {
  const int64_t seconds = floor_div(ns, kNsPerSecond);
  frozen_ = civil_from_seconds(seconds);
  frozen_.weekday = (frozen_.weekday + weekday_adjust_) % 7;
  frozen_fraction_ns_ = ns - seconds * kNsPerSecond;
}

// Fields out of range (the 31st of a 30-day month) carry over arithmetically, as the date the
// guest asked for cannot be kept; the range is clamped to 1900-2199.
void CmosRtc::thaw(bool divider_restarted) {
  const int64_t seconds = std::clamp(seconds_from_civil(frozen_), kEarliest, kLatest);
  // Datasheet "Divider Control": leaving reset, the first update comes 500 ms later.
  set_rtc_ns(seconds * kNsPerSecond + (divider_restarted ? kNsPerSecond / 2 : frozen_fraction_ns_));
  const int weekday = civil_from_seconds(seconds).weekday;
  weekday_adjust_ = ((frozen_.weekday - weekday) % 7 + 7) % 7;
}

void CmosRtc::read(uint64_t offset, std::span<uint8_t> data) {
  for (size_t i = 0; i < data.size(); ++i) {
    // The index port is write-only (reads float); the data port reads the indexed byte.
    data[i] = offset + i == 1 ? read_register(index_) : 0xff;
  }
}

void CmosRtc::write(uint64_t offset, std::span<const uint8_t> data) {
  for (size_t i = 0; i < data.size(); ++i) {
    if (offset + i == 0) {
      index_ = data[i] & 0x7f;
      nmi_disabled_ = (data[i] & 0x80) != 0;  // PIIX4 4.8.1: port 70h bit 7 masks NMI
    } else if (offset + i == 1) {
      write_register(index_, data[i]);
    }
  }
}

uint8_t CmosRtc::encode(unsigned value) const {
  return (cmos_[kRegisterB] & kBBinary) ? static_cast<uint8_t>(value)
                                        : static_cast<uint8_t>(to_bcd(value, 2));
}
unsigned CmosRtc::decode(uint8_t value) const {
  return (cmos_[kRegisterB] & kBBinary) ? value : static_cast<unsigned>(from_bcd(value, 2));
}

// Datasheet "Hours": 1-12 with bit 7 for PM in 12-hour mode.
uint8_t CmosRtc::encode_hour(int hour) const {
  if (cmos_[kRegisterB] & kB24Hour) return encode(static_cast<unsigned>(hour));
  const int twelve = hour % 12 == 0 ? 12 : hour % 12;
  return static_cast<uint8_t>(encode(static_cast<unsigned>(twelve)) | (hour >= 12 ? kHourPm : 0));
}
int CmosRtc::decode_hour(uint8_t value) const {
  if (cmos_[kRegisterB] & kB24Hour) return static_cast<int>(decode(value));
  const int twelve = static_cast<int>(decode(value & ~kHourPm)) % 12;
  return twelve + ((value & kHourPm) ? 12 : 0);
}

uint8_t CmosRtc::read_time_field(uint8_t index) const {
  const CivilTime t = shown_time();
  switch (index) {
    case kSeconds:
      return encode(static_cast<unsigned>(t.second));
    case kMinutes:
      return encode(static_cast<unsigned>(t.minute));
    case kHours:
      return encode_hour(t.hour);
    case kWeekday:
      return encode(static_cast<unsigned>(t.weekday + 1));
    case kDay:
      return encode(static_cast<unsigned>(t.day));
    case kMonth:
      return encode(static_cast<unsigned>(t.month));
    case kYear:
      return encode(static_cast<unsigned>(t.year % 100));
    default:
      return encode(static_cast<unsigned>(t.year / 100));  // kCentury
  }
}

// While running, a write takes effect at once (as a freeze, the change, and a thaw); with SET
// the fields change on their own until SET is cleared.
void CmosRtc::write_time_field(uint8_t index, uint8_t value) {
  const bool running = !halted();
  if (running) {
    update_flags();
    freeze(rtc_ns());
  }
  const int field = static_cast<int>(decode(value));
  CivilTime& t = frozen_;
  switch (index) {
    case kSeconds:
      t.second = field;
      break;
    case kMinutes:
      t.minute = field;
      break;
    case kHours:
      t.hour = decode_hour(value);
      break;
    case kWeekday:
      t.weekday = ((field - 1) % 7 + 7) % 7;
      break;  // a counter of its own
    case kDay:
      t.day = field;
      break;
    case kMonth:
      t.month = field;
      break;
    case kYear:
      t.year = t.year / 100 * 100 + field % 100;  // years stay below 25600
      break;
    default:
      t.year = int64_t{field} * 100 + t.year % 100;
      break;  // kCentury
  }
  ++metrics_.time_sets;
  if (running) {
    thaw(false);
    update_irq();
    arm_timer();
  }
}

uint8_t CmosRtc::read_register(uint8_t index) {
  switch (index) {
    case kSeconds:
    case kMinutes:
    case kHours:
    case kWeekday:
    case kDay:
    case kMonth:
    case kYear:
    case kCentury:
      return read_time_field(index);
    case kRegisterA: {
      const int64_t phase = rtc_ns() - floor_div(rtc_ns(), kNsPerSecond) * kNsPerSecond;
      const bool uip = !halted() && (phase >= kNsPerSecond - kUipLeadNs || phase < kUpdateCycleNs);
      return static_cast<uint8_t>(cmos_[kRegisterA] | (uip ? kAUpdateInProgress : 0));
    }
    case kRegisterC: {
      // Datasheet "Register C": reading returns and clears every flag and IRQF.
      update_flags();
      const uint8_t value = static_cast<uint8_t>(
          flags_ | ((flags_ & cmos_[kRegisterB] & kBInterruptEnables) ? kCInterruptRequest : 0));
      flags_ = 0;
      update_irq();
      arm_timer();
      return value;
    }
    case kRegisterD:
      return kDValid;
    default:
      return cmos_[index & 0x7f];
  }
}

void CmosRtc::write_register(uint8_t index, uint8_t value) {
  switch (index) {
    case kSeconds:
    case kMinutes:
    case kHours:
    case kWeekday:
    case kDay:
    case kMonth:
    case kYear:
    case kCentury:
      write_time_field(index, value);
      return;
    case kRegisterA:
      write_register_a(value);
      return;
    case kRegisterB:
      write_register_b(value);
      return;
    case kRegisterC:  // read-only
    case kRegisterD:
      return;
    default:
      cmos_[index & 0x7f] = value;  // alarms and battery-backed memory
      if (index <= kHoursAlarm) {
        update_flags();
        arm_timer();
      }
      return;
  }
}

void CmosRtc::write_register_a(uint8_t value) {
  write_control(kRegisterA, value & static_cast<uint8_t>(~kAUpdateInProgress));
}

void CmosRtc::write_register_b(uint8_t value) {
  // Datasheet "Register B", SET: setting it also clears UIE; updates stop until it clears.
  if (value & kBSet) value &= static_cast<uint8_t>(~kBUpdateEndedEnable);
  write_control(kRegisterB, value);
}

// Registers A and B may stop the clock (SET, divider reset) or start it again.
void CmosRtc::write_control(uint8_t index, uint8_t value) {
  update_flags();
  const bool was_halted = halted();
  const bool divider_was_reset = (cmos_[kRegisterA] & kADividerMask) != kADivider32k;
  const int64_t ns = rtc_ns();
  cmos_[index] = value;
  if (!was_halted && halted()) {
    freeze(ns);
  } else if (was_halted && !halted()) {
    thaw(divider_was_reset && (cmos_[kRegisterA] & kADividerMask) == kADivider32k);
  }
  update_irq();
  arm_timer();
}

// Flags accrue lazily: each access accounts for the periodic, update and alarm events of the
// guest time elapsed since the last one.
void CmosRtc::update_flags() {
  if (halted()) {
    flags_checked_ns_ = rtc_ns();
    return;
  }
  const int64_t now = rtc_ns();
  const int64_t from = flags_checked_ns_;
  if (now <= from) return;
  const int64_t period = periodic_units(cmos_[kRegisterA] & kARateMask);
  if (period != 0 &&
      floor_div(time_base_units(now), period) > floor_div(time_base_units(from), period)) {
    flags_ |= kCPeriodic;
  }
  const int64_t now_s = floor_div(now, kNsPerSecond);
  const int64_t from_s = floor_div(from, kNsPerSecond);
  if (now_s > from_s) {
    flags_ |= kCUpdateEnded;
    if (next_alarm_after(from_s) <= now_s) flags_ |= kCAlarm;
  }
  flags_checked_ns_ = now;
}

void CmosRtc::update_irq() {
  const bool level = (flags_ & cmos_[kRegisterB] & kBInterruptEnables) != 0;
  if (level == irq_.level()) return;
  if (level) ++metrics_.interrupts;
  irq_.set(level);
}

// The first second after `seconds` whose time of day matches the alarm bytes, or kNever.
int64_t CmosRtc::next_alarm_after(int64_t seconds) const {
  struct Range {
    int first, last;
  };
  const auto range = [&](uint8_t index, int limit, bool hour) -> Range {
    const uint8_t raw = cmos_[index];
    if ((raw & kAlarmDontCare) == kAlarmDontCare) return {0, limit - 1};
    const int v = hour ? decode_hour(raw) : static_cast<int>(decode(raw));
    return v < limit ? Range{v, v} : Range{1, 0};  // an impossible value never matches
  };
  const Range hours = range(kHoursAlarm, 24, true);
  const Range minutes = range(kMinutesAlarm, 60, false);
  const Range secs = range(kSecondsAlarm, 60, false);
  const int64_t day_start = floor_div(seconds, 86400) * 86400;
  const int64_t of_day = seconds - day_start;
  for (int64_t day = 0; day < 2; ++day) {
    for (int h = hours.first; h <= hours.last; ++h) {
      if (day == 0 && h < of_day / 3600) continue;
      for (int m = minutes.first; m <= minutes.last; ++m) {
        if (day == 0 && h == of_day / 3600 && m < of_day / 60 % 60) continue;
        for (int s = secs.first; s <= secs.last; ++s) {
          const int64_t candidate = day_start + day * 86400 + h * 3600 + m * 60 + s;
          if (candidate > seconds) return candidate;
        }
      }
    }
  }
  return kNever;
}

int64_t CmosRtc::next_event_ns() const {
  const int64_t now = rtc_ns();
  const uint8_t enables = cmos_[kRegisterB] & kBInterruptEnables;
  int64_t next = kNever;
  const int64_t period = periodic_units(cmos_[kRegisterA] & kARateMask);
  if ((enables & kBPeriodicEnable) && period != 0) {
    next = units_to_ns((floor_div(time_base_units(now), period) + 1) * period);
  }
  const int64_t now_s = floor_div(now, kNsPerSecond);
  if (enables & kBUpdateEndedEnable) next = std::min(next, (now_s + 1) * kNsPerSecond);
  if (enables & kBAlarmEnable) {
    const int64_t alarm = next_alarm_after(now_s);
    if (alarm != kNever) next = std::min(next, alarm * kNsPerSecond);
  }
  return next;
}

// A timer only while an enabled interrupt can still come (IRQ 8 is low and the clock runs).
void CmosRtc::arm_timer() {
  timers_.cancel(timer_);
  if (halted() || irq_.level()) return;
  const int64_t next = next_event_ns();
  if (next == kNever) return;
  timers_.arm(timer_, timers_.now_ns() + static_cast<uint64_t>(next - rtc_ns()));
}

void CmosRtc::set_cmos_byte(uint8_t index, uint8_t value) {
  if (index < kFirstMemoryByte || index == kCentury || index >= cmos_.size()) return;
  cmos_[index] = value;
  if (index >= 0x10 && index <= 0x2d) update_checksum();
}

// IBM PC/AT Technical Reference, "CMOS RAM Address Map": base memory in KB (0x15-0x16),
// memory above 1 MB in KB (0x17-0x18, copied at 0x30-0x31); memory above 16 MB in 64 KB
// units at 0x34-0x35 and above 4 GB in 64 KB units at 0x5b-0x5d (the layout PC firmware
// such as SeaBIOS reads). Little-endian words.
void CmosRtc::set_memory_size(uint64_t below_4g, uint64_t above_4g) {
  constexpr uint64_t kMiB = 1 << 20;
  const auto put = [&](uint8_t at, uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) cmos_[at + i] = static_cast<uint8_t>(value >> (8 * i));
  };
  put(0x15, 640, 2);
  const uint64_t above_1m =
      below_4g > kMiB ? std::min<uint64_t>((below_4g - kMiB) / 1024, 0xffff) : 0;
  put(0x17, above_1m, 2);
  put(0x30, above_1m, 2);
  const uint64_t above_16m =
      below_4g > 16 * kMiB ? std::min<uint64_t>((below_4g - 16 * kMiB) / 65536, 0xffff) : 0;
  put(0x34, above_16m, 2);
  put(0x5b, std::min<uint64_t>(above_4g / 65536, 0xffffff), 3);
  update_checksum();
}

// The standard checksum: the sum of bytes 0x10-0x2d, big-endian at 0x2e-0x2f.
void CmosRtc::update_checksum() {
  unsigned sum = 0;
  for (unsigned i = 0x10; i <= 0x2d; ++i) sum += cmos_[i];
  cmos_[0x2e] = static_cast<uint8_t>(sum >> 8);
  cmos_[0x2f] = static_cast<uint8_t>(sum);
}

}  // namespace cella::devices
