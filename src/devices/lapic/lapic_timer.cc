// The APIC timer (SDM Vol. 3A 11.5.4): a 32-bit down-counter clocked by timer_hz divided by
// the divide configuration, in one-shot, periodic or TSC-deadline mode. The counter is not
// stepped: its value is computed from the Clock, and one Timer on the TimerQueue fires at the
// next expiry.
#include <algorithm>
#include <limits>

#include "devices/lapic/lapic.h"

namespace cella::devices {

using namespace lapic;

namespace {
constexpr uint64_t kNsPerSecond = 1'000'000'000;
constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

uint64_t saturate(unsigned __int128 value) {
  return value > kMax ? kMax : static_cast<uint64_t>(value);
}
uint64_t add_saturating(uint64_t a, uint64_t b) {
  return b > kMax - a ? kMax : a + b;
}
}  // namespace

TimerMode Lapic::timer_mode() const {
  return static_cast<TimerMode>((lvt_[static_cast<int>(Lvt::kTimer)] >> kLvtTimerModeShift) & 3);
}

// SDM Vol. 3A 11.5.4, Figure 11-10: bits 3,1:0 = 000 divides by 2, 001 by 4, ... 110 by 128,
// 111 by 1.
uint64_t Lapic::timer_divisor() const {
  const uint32_t code = (divide_config_ & 3) | ((divide_config_ >> 1) & 4);
  return uint64_t{1} << ((code + 1) & 7);
}

uint64_t Lapic::ns_for_ticks(uint64_t ticks) const {
  const uint64_t hz = std::max<uint64_t>(config_.timer_hz, 1);
  const unsigned __int128 scaled =
      static_cast<unsigned __int128>(ticks) * timer_divisor() * kNsPerSecond;
  return saturate((scaled + hz - 1) / hz);  // rounded up: the tick has happened by then
}

uint64_t Lapic::ticks_since(uint64_t start_ns) const {
  const uint64_t now = timers_.now_ns();
  if (now <= start_ns) return 0;
  const unsigned __int128 scaled =
      static_cast<unsigned __int128>(now - start_ns) * std::max<uint64_t>(config_.timer_hz, 1);
  return saturate(scaled / (static_cast<unsigned __int128>(kNsPerSecond) * timer_divisor()));
}

void Lapic::start_counter(uint64_t start_ns, uint32_t count) {
  counter_running_ = true;
  counter_start_ns_ = start_ns;
  start_count_ = count;
  periods_ = 0;
  arm_counter();
}

// Ticks from the counter's start to its expiry number periods_: it counts start_count_ down,
// then reloads the initial count at every expiry (periodic mode).
uint64_t Lapic::next_expiry_ticks() const {
  return saturate(start_count_ + static_cast<unsigned __int128>(initial_count_) * periods_);
}

void Lapic::arm_counter() {
  timers_.arm(timer_, add_saturating(counter_start_ns_, ns_for_ticks(next_expiry_ticks())));
}

void Lapic::stop_timer() {
  counter_running_ = false;
  timers_.cancel(timer_);
}

void Lapic::on_timer() {
  ++metrics_.timer_expirations;
  if (timer_mode() == TimerMode::kTscDeadline) {
    tsc_deadline_ = 0;  // SDM Vol. 3A 11.5.4.1: the MSR reads zero once the timer fired
    deliver_lvt(Lvt::kTimer);
    return;
  }
  if (!counter_running_) return;
  deliver_lvt(Lvt::kTimer);  // a masked entry still counts down (SDM Vol. 3A 11.5.4)
  if (timer_mode() == TimerMode::kPeriodic) {
    ++periods_;  // reloads from the initial count
    arm_counter();
  } else {
    counter_running_ = false;
  }
}

uint32_t Lapic::read_current_count(unsigned) const {
  if (!counter_running_ || timer_mode() == TimerMode::kTscDeadline) return 0;
  const uint64_t ticks = ticks_since(counter_start_ns_);
  const uint64_t next = next_expiry_ticks();
  if (ticks < next) return static_cast<uint32_t>(std::min<uint64_t>(next - ticks, 0xffffffff));
  // The expiry is due but has not run yet: a periodic counter has already reloaded.
  if (timer_mode() != TimerMode::kPeriodic || initial_count_ == 0) return 0;
  return static_cast<uint32_t>(initial_count_ - (ticks - start_count_) % initial_count_);
}

// A new divider applies from now on: the counter continues from its current value.
void Lapic::change_divide(uint32_t divide_config) {
  if (!counter_running_ || timer_mode() == TimerMode::kTscDeadline) {
    divide_config_ = divide_config;
    return;
  }
  const uint32_t current = read_current_count(0);
  divide_config_ = divide_config;
  start_counter(timers_.now_ns(), current);
}

// SDM Vol. 3A 11.5.4.1: a transition into or out of TSC-deadline mode disarms the timer;
// switching between one-shot and periodic keeps the counter running.
void Lapic::change_lvt_timer(uint32_t entry) {
  const TimerMode old_mode = timer_mode();
  lvt_[static_cast<int>(Lvt::kTimer)] = entry;
  const TimerMode new_mode = timer_mode();
  if (old_mode == new_mode) return;
  if (old_mode == TimerMode::kTscDeadline || new_mode == TimerMode::kTscDeadline) {
    stop_timer();
    initial_count_ = 0;
    tsc_deadline_ = 0;
  }
}

// SDM Vol. 3A 11.5.4.1: IA32_TSC_DEADLINE arms the timer for when the TSC reaches the value;
// zero disarms it; outside TSC-deadline mode writes are ignored.
void Lapic::set_tsc_deadline(uint64_t deadline) {
  if (timer_mode() != TimerMode::kTscDeadline) return;
  tsc_deadline_ = deadline;
  timers_.cancel(timer_);
  if (deadline != 0) arm_tsc_deadline();
}

void Lapic::arm_tsc_deadline() {
  if (tsc_ == nullptr) return;  // no TSC: the machine does not offer the mode
  const uint64_t now_tsc = tsc_->tsc();
  const uint64_t now = timers_.now_ns();
  if (tsc_deadline_ <= now_tsc) {
    timers_.arm(timer_, now);
    return;
  }
  const uint64_t hz = std::max<uint64_t>(tsc_->tsc_hz(), 1);
  const unsigned __int128 delta =
      static_cast<unsigned __int128>(tsc_deadline_ - now_tsc) * kNsPerSecond;
  timers_.arm(timer_, add_saturating(now, saturate((delta + hz - 1) / hz)));
}

}  // namespace cella::devices
