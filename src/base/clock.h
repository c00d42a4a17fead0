// Time as a parameter: devices read a Clock instead of the host's time, so every timer-driven
// device is testable with a clock the test moves by hand.
#pragma once

#include <cstdint>

namespace cella {

class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds on a monotonic time line (its origin is arbitrary).
  virtual uint64_t now_ns() const = 0;
  // Nanoseconds since the Unix epoch, for devices that report the date (the CMOS RTC).
  virtual uint64_t wall_ns() const = 0;
};

// The host's CLOCK_MONOTONIC and CLOCK_REALTIME.
class HostClock final : public Clock {
 public:
  uint64_t now_ns() const override;
  uint64_t wall_ns() const override;
};

// A clock that moves only when told to; its wall time is a fixed epoch plus its monotonic time.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(uint64_t wall_epoch_ns = 0) : wall_epoch_ns_(wall_epoch_ns) {}
  uint64_t now_ns() const override { return now_ns_; }
  uint64_t wall_ns() const override { return wall_epoch_ns_ + now_ns_; }
  void advance(uint64_t ns) { now_ns_ += ns; }
  void set(uint64_t now_ns) { now_ns_ = now_ns; }

 private:
  uint64_t wall_epoch_ns_;
  uint64_t now_ns_ = 0;
};

}  // namespace cella
