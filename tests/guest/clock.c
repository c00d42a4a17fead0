// Guest time keeps host time: `sleep 1` takes one second on the monotonic clock, the TSC
// advances at the frequency the guest believes, and the date is the host's (the host passes
// its time at launch as cella.host_time=SECONDS; boot takes a little, so a margin is allowed).
// The program prints "clock: sleep-start" and "clock: sleep-end" so that the host test can
// time the sleep in host time as well.
#include <time.h>
#include <x86intrin.h>

#include "guest_test.h"

static double now(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  printf("clock: sleep-start\n");
  const double start = now(CLOCK_MONOTONIC);
  const unsigned long long tsc_start = __rdtsc();
  struct timespec one = {1, 0};
  nanosleep(&one, NULL);
  const double slept = now(CLOCK_MONOTONIC) - start;
  const unsigned long long tsc_ticks = __rdtsc() - tsc_start;
  printf("clock: sleep-end\n");
  printf("clock: slept %.3f s, TSC %.1f MHz over it\n", slept, tsc_ticks / slept / 1e6);
  CHECK(slept >= 1.0 && slept < 1.5, "nanosleep(1 s) took %.3f s", slept);
  CHECK(tsc_ticks > 0, "the TSC does not advance");

  const char* host_time = cmdline_value("cella.host_time");
  if (host_time != NULL) {
    const double difference = now(CLOCK_REALTIME) - atof(host_time);
    printf("clock: guest date is host launch time + %.1f s\n", difference);
    CHECK(difference >= -2 && difference < 600, "guest date is %.1f s off the host's", difference);
  }
  return guest_result();
}
