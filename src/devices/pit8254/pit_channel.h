// One counter of the Intel 8254 (8254 datasheet, Intel order 231164, "Modes" and "Operation"),
// evaluated from the time line instead of being clocked: the counter's contents and its OUT
// pin are functions of how many 1.193182 MHz ticks elapsed since the count was loaded (or
// triggered), so nothing runs between accesses.
#pragma once

#include <cstdint>
#include <optional>

#include "base/result.h"
#include "snapshot/state_stream.h"

namespace cella::devices {

class PitChannel {
 public:
  // Control word fields (datasheet "Control Word Format"): RW1/RW0 and M2-M0, BCD.
  enum Access : uint8_t { kLatch = 0, kLsb = 1, kMsb = 2, kLsbMsb = 3 };

  void reset(bool gate);
  void control(uint8_t mode_bits, Access access, bool bcd, uint64_t now);
  void write(uint8_t value, uint64_t now);
  uint8_t read(uint64_t now);
  void latch_count(uint64_t now);
  void latch_status(uint64_t now);
  void set_gate(bool level, uint64_t now);

  bool gate() const { return gate_; }
  bool out(uint64_t now) const;
  // The first tick after `now` at which OUT rises, if it ever does without another access.
  std::optional<uint64_t> next_rising_edge(uint64_t now) const;

  void save(snapshot::StateWriter& out, uint64_t now) const;
  Result<void> load(snapshot::StateReader& in, uint64_t now);

 private:
  uint8_t mode() const { return mode_bits_ > 5 ? mode_bits_ - 4 : mode_bits_; }
  uint32_t modulus() const { return bcd_ ? 10000 : 0x10000; }
  uint64_t elapsed(uint64_t now) const;
  uint16_t counter(uint64_t now) const;  // the counting element, binary
  uint16_t encoded(uint16_t count) const;
  void load_count(uint16_t raw, uint64_t now);
  void start(uint64_t now);
  void sync(uint64_t now);

  // Programming (datasheet "Control Word Format", "Read Operations", "Write Operations").
  uint8_t mode_bits_ = 0;
  Access access_ = kLsbMsb;
  bool bcd_ = false;
  bool write_msb_next_ = false;  // LSB/MSB access: the next write is the MSB
  uint8_t written_lsb_ = 0;
  bool read_msb_next_ = false;
  bool count_latched_ = false;
  uint16_t latched_count_ = 0;
  bool latched_msb_next_ = false;
  bool status_latched_ = false;
  uint8_t latched_status_ = 0;
  bool gate_ = true;
  bool null_count_ = true;
  // Counting.
  bool loaded_ = false;          // a count was written since the control word
  bool triggered_ = false;       // modes 1 and 5: a gate rising edge started the count
  bool counting_ = false;        // the counting element is running
  uint32_t reload_ = 0x10000;    // N, the initial count (0 means 2^16 or 10^4)
  uint64_t start_tick_ = 0;      // tick at which the counting element held N (less `paused_`)
  uint64_t paused_ = 0;          // ticks counted before the gate suspended counting (modes 0, 4)
  bool reload_pending_ = false;  // modes 2, 3: a new count waits for the end of the period
  uint32_t pending_reload_ = 0;
  uint64_t pending_tick_ = 0;
  uint16_t idle_value_ = 0;  // the counting element while it is not running
};

// Ticks of the 1.193182 MHz PIT input clock (14.31818 MHz / 12) and nanoseconds.
inline constexpr uint64_t kPitHz = 1'193'182;
uint64_t pit_tick_at(uint64_t ns);
uint64_t pit_tick_ns(uint64_t tick);  // the first nanosecond at which `tick` has begun

}  // namespace cella::devices
