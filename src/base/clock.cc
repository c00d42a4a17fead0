#include "base/clock.h"

#include <ctime>

namespace cella {
namespace {

uint64_t read_clock(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

uint64_t HostClock::now_ns() const {
  return read_clock(CLOCK_MONOTONIC);
}
uint64_t HostClock::wall_ns() const {
  return read_clock(CLOCK_REALTIME);
}

}  // namespace cella
