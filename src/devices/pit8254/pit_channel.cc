#include "devices/pit8254/pit_channel.h"

#include "base/bits.h"

namespace cella::devices {

uint64_t pit_tick_at(uint64_t ns) {
  return static_cast<uint64_t>(static_cast<unsigned __int128>(ns) * kPitHz / 1'000'000'000);
}

uint64_t pit_tick_ns(uint64_t tick) {
  const unsigned __int128 scaled = static_cast<unsigned __int128>(tick) * 1'000'000'000;
  return static_cast<uint64_t>((scaled + kPitHz - 1) / kPitHz);
}

void PitChannel::reset(bool gate) {
  *this = PitChannel{};
  gate_ = gate;
}

uint64_t PitChannel::elapsed(uint64_t now) const {
  // Wrapping subtraction: a restored start may lie before tick 0 of a fresh clock.
  return paused_ + (counting_ ? now - start_tick_ : 0);
}

// Datasheet "Mode 2" / "Mode 3": a count written while counting takes effect at the end of
// the current period.
void PitChannel::sync(uint64_t now) {
  if (reload_pending_ && now >= pending_tick_) {
    reload_pending_ = false;
    reload_ = pending_reload_;
    start_tick_ = pending_tick_;
    paused_ = 0;
  }
}

uint16_t PitChannel::counter(uint64_t now) const {
  if (!loaded_ || ((mode() == 1 || mode() == 5) && !triggered_)) return idle_value_;
  const uint64_t e = elapsed(now);
  const uint64_t n = reload_;
  switch (mode()) {
    case 2:
      if (!counting_) return idle_value_;
      return static_cast<uint16_t>(n - e % n);
    case 3: {
      if (!counting_) return idle_value_;
      // Datasheet "Mode 3": the count drops by two per clock, through each half period.
      const uint64_t high = (n + 1) / 2;
      const uint64_t phase = e % n;
      const uint64_t step = phase < high ? phase : phase - high;
      return static_cast<uint16_t>(((n & ~uint64_t{1}) - 2 * step) & 0xffff);
    }
    default: {
      // Modes 0, 1, 4, 5 count down through zero and wrap (0 -> FFFF, or 9999 in BCD).
      const uint64_t m = modulus();
      return static_cast<uint16_t>((n % m + m - e % m) % m);
    }
  }
}

bool PitChannel::out(uint64_t now) const {
  if (reload_pending_ && now >= pending_tick_) {  // a const view of sync(now)
    PitChannel synced = *this;
    synced.sync(now);
    return synced.out(now);
  }
  const uint64_t n = reload_;
  switch (mode()) {
    case 0:  // "Mode 0": low from the control word until the terminal count
      return loaded_ && elapsed(now) >= n;
    case 1:  // "Mode 1": low from the trigger until the terminal count
      return !triggered_ || elapsed(now) >= n;
    case 2:  // "Mode 2": low for one clock when the count reaches 1
      return !counting_ || n == 1 || elapsed(now) % n != n - 1;
    case 3:  // "Mode 3": high for the first half of the period, low for the second
      return !counting_ || elapsed(now) % n < (n + 1) / 2;
    case 4:  // "Mode 4" / "Mode 5": low for one clock at the terminal count
      return !loaded_ || elapsed(now) != n;
    default:
      return !triggered_ || elapsed(now) != n;
  }
}

std::optional<uint64_t> PitChannel::next_rising_edge(uint64_t now) const {
  if (reload_pending_ && now >= pending_tick_) {
    PitChannel synced = *this;
    synced.sync(now);
    return synced.next_rising_edge(now);
  }
  if (!counting_) return std::nullopt;
  const uint64_t n = reload_;
  const uint64_t e = elapsed(now);
  const uint64_t base = now - e;  // the tick at which elapsed was 0 (modulo 2^64)
  switch (mode()) {
    case 0:
    case 1:
      if (e >= n) return std::nullopt;
      return base + n;
    case 2:
    case 3:
      if (n == 1) return std::nullopt;  // OUT never changes
      if (reload_pending_) return pending_tick_;
      return base + (e / n + 1) * n;
    default:  // modes 4 and 5 rise after their one-clock strobe
      if (e > n) return std::nullopt;
      return base + n + 1;
  }
}

void PitChannel::start(uint64_t now) {
  counting_ = true;
  paused_ = 0;
  start_tick_ = now;
  null_count_ = false;
}

void PitChannel::control(uint8_t mode_bits, Access access, bool bcd, uint64_t now) {
  sync(now);
  idle_value_ = counter(now);
  mode_bits_ = mode_bits & 7;
  access_ = access;
  bcd_ = bcd;
  write_msb_next_ = read_msb_next_ = false;
  count_latched_ = status_latched_ = false;
  loaded_ = triggered_ = counting_ = reload_pending_ = false;
  paused_ = 0;
  null_count_ = true;
}

void PitChannel::load_count(uint16_t raw, uint64_t now) {
  const uint32_t n = raw == 0 ? modulus() : bcd_ ? static_cast<uint32_t>(from_bcd(raw, 4)) : raw;
  null_count_ = true;
  switch (mode()) {
    case 0:
    case 4:
      reload_ = n == 0 ? modulus() : n;
      loaded_ = true;
      start(now);
      if (!gate_) {  // "Gate": a low gate suspends counting
        counting_ = false;
        paused_ = 0;
      }
      break;
    case 1:
    case 5:
      // Loaded into the counting element by the next trigger.
      reload_ = n == 0 ? modulus() : n;
      loaded_ = true;
      break;
    default:
      if (loaded_ && counting_) {
        reload_pending_ = true;
        pending_reload_ = n == 0 ? modulus() : n;
        const uint64_t e = elapsed(now);
        pending_tick_ = now - e + (e / reload_ + 1) * reload_;
      } else {
        reload_ = n == 0 ? modulus() : n;
        loaded_ = true;
        if (gate_) start(now);
      }
      break;
  }
}

void PitChannel::write(uint8_t value, uint64_t now) {
  sync(now);
  switch (access_) {
    case kLsb:
      load_count(value, now);
      return;
    case kMsb:
      load_count(static_cast<uint16_t>(value << 8), now);
      return;
    default:
      if (!write_msb_next_) {
        written_lsb_ = value;
        write_msb_next_ = true;
        // "Mode 0": writing the first byte stops the count and sets OUT low.
        if (mode() == 0) {
          idle_value_ = counter(now);
          loaded_ = counting_ = false;
        }
        return;
      }
      write_msb_next_ = false;
      load_count(static_cast<uint16_t>(written_lsb_ | value << 8), now);
      return;
  }
}

uint16_t PitChannel::encoded(uint16_t count) const {
  return bcd_ ? static_cast<uint16_t>(to_bcd(count, 4)) : count;
}

void PitChannel::latch_count(uint64_t now) {
  sync(now);
  // "Counter Latch Command": a second latch before the first is read is ignored.
  if (count_latched_) return;
  count_latched_ = true;
  latched_count_ = encoded(counter(now));
  latched_msb_next_ = access_ == kMsb;
}

void PitChannel::latch_status(uint64_t now) {
  sync(now);
  if (status_latched_) return;
  // "Read-Back Command", status byte: OUTPUT, NULL COUNT, RW1-RW0, M2-M0, BCD.
  status_latched_ = true;
  latched_status_ = static_cast<uint8_t>((out(now) ? 0x80 : 0) | (null_count_ ? 0x40 : 0) |
                                         access_ << 4 | mode_bits_ << 1 | (bcd_ ? 1 : 0));
}

uint8_t PitChannel::read(uint64_t now) {
  sync(now);
  if (status_latched_) {
    status_latched_ = false;
    return latched_status_;
  }
  if (count_latched_) {
    const bool msb = latched_msb_next_;
    if (access_ == kLsbMsb && !msb) {
      latched_msb_next_ = true;
    } else {
      count_latched_ = false;
    }
    return static_cast<uint8_t>(msb ? latched_count_ >> 8 : latched_count_);
  }
  const uint16_t count = encoded(counter(now));
  switch (access_) {
    case kMsb:
      return static_cast<uint8_t>(count >> 8);
    case kLsbMsb:
      read_msb_next_ = !read_msb_next_;
      return static_cast<uint8_t>(read_msb_next_ ? count : count >> 8);
    default:
      return static_cast<uint8_t>(count);
  }
}

// Datasheet Figure "Gate Pin Operations Summary".
void PitChannel::set_gate(bool level, uint64_t now) {
  sync(now);
  const bool rising = level && !gate_;
  gate_ = level;
  switch (mode()) {
    case 0:
    case 4:
      if (!loaded_) return;
      if (!level && counting_) {
        paused_ = elapsed(now);
        counting_ = false;
      } else if (level && !counting_) {
        const uint64_t kept = paused_;
        start(now);
        paused_ = kept;
      }
      return;
    case 1:
    case 5:
      if (rising && loaded_) {
        triggered_ = true;
        start(now);
      }
      return;
    default:
      if (!level) {
        if (counting_) idle_value_ = counter(now);
        counting_ = false;
        reload_pending_ = false;
      } else if (rising && loaded_) {
        start(now);
      }
      return;
  }
}

}  // namespace cella::devices
