// One-shot timers on a Clock. A device owns its Timer objects and arms them with absolute
// deadlines on the clock's monotonic time line; whoever drives time (the machine's event
// loop, or a test with a ManualClock) calls run_due(), which fires every expired timer in
// deadline order. A callback may re-arm its own timer (periodic modes) or others.
//
// Threading: like the devices themselves, a TimerQueue is used under the machine's device
// lock; it has no lock of its own.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "base/clock.h"

namespace cella::devices {

class TimerQueue;

class Timer {
 public:
  explicit Timer(std::function<void()> on_expiry) : on_expiry_(std::move(on_expiry)) {}
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  bool armed() const { return queue_ != nullptr; }
  uint64_t deadline_ns() const { return deadline_ns_; }

 private:
  friend class TimerQueue;
  std::function<void()> on_expiry_;
  TimerQueue* queue_ = nullptr;
  uint64_t deadline_ns_ = 0;
};

class TimerQueue {
 public:
  explicit TimerQueue(const Clock& clock) : clock_(clock) {}
  ~TimerQueue();
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  const Clock& clock() const { return clock_; }
  uint64_t now_ns() const { return clock_.now_ns(); }

  // Arms (or re-arms) `timer` to fire once at `deadline_ns`; a deadline in the past fires at
  // the next run_due().
  void arm(Timer& timer, uint64_t deadline_ns);
  void cancel(Timer& timer);

  // The earliest armed deadline, if any: how long the event loop may sleep.
  std::optional<uint64_t> next_deadline_ns() const;
  // Fires the timers whose deadline has passed, earliest first; returns how many fired. A
  // timer re-armed by its callback for a time already past fires again in the same call, up
  // to `max_rounds` firings in all (so a guest programming a zero period cannot hang the host;
  // the rest fire at the next call).
  int run_due(int max_rounds = 64);

 private:
  const Clock& clock_;
  std::vector<Timer*> armed_;
};

}  // namespace cella::devices
