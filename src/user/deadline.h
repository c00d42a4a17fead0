// Absolute deadlines for calls that wait with a relative timeout, so that a wait resumed after
// a signal that did not interrupt it (Linux would not even have woken up) keeps its end time.
#pragma once

#include <time.h>

#include <cstdint>

namespace cella::user {

inline constexpr long kNanosPerSecond = 1000000000;

inline bool valid_timespec(const timespec& t) {
  return t.tv_sec >= 0 && t.tv_nsec >= 0 && t.tv_nsec < kNanosPerSecond;
}

inline timespec add_timespec(timespec a, const timespec& b) {
  a.tv_sec += b.tv_sec;
  a.tv_nsec += b.tv_nsec;
  if (a.tv_nsec >= kNanosPerSecond) {
    a.tv_nsec -= kNanosPerSecond;
    ++a.tv_sec;
  }
  return a;
}

// The time left until `deadline` on `clock`, zero once it has passed.
inline timespec time_left(clockid_t clock, const timespec& deadline) {
  timespec now{};
  clock_gettime(clock, &now);
  timespec left{deadline.tv_sec - now.tv_sec, deadline.tv_nsec - now.tv_nsec};
  if (left.tv_nsec < 0) {
    left.tv_nsec += kNanosPerSecond;
    --left.tv_sec;
  }
  if (left.tv_sec < 0) return timespec{0, 0};
  return left;
}

}  // namespace cella::user
