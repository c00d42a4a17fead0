#include "devices/timer_queue.h"

#include <gtest/gtest.h>

#include <string>

namespace cella::devices {
namespace {

TEST(TimerQueue, FiresDueTimersInDeadlineOrder) {
  ManualClock clock;
  TimerQueue queue(clock);
  std::string order;
  Timer a([&] { order += 'a'; }), b([&] { order += 'b'; }), c([&] { order += 'c'; });
  queue.arm(a, 300);
  queue.arm(b, 100);
  queue.arm(c, 200);
  EXPECT_EQ(queue.next_deadline_ns(), 100u);
  clock.set(99);
  EXPECT_EQ(queue.run_due(), 0);
  clock.set(250);
  EXPECT_EQ(queue.run_due(), 2);
  EXPECT_EQ(order, "bc");
  EXPECT_TRUE(a.armed());
  EXPECT_FALSE(b.armed());
  EXPECT_EQ(queue.next_deadline_ns(), 300u);
}

TEST(TimerQueue, RearmReplacesAndCancelRemoves) {
  ManualClock clock;
  TimerQueue queue(clock);
  int fired = 0;
  Timer t([&] { ++fired; });
  queue.arm(t, 100);
  queue.arm(t, 500);
  clock.set(200);
  EXPECT_EQ(queue.run_due(), 0);
  queue.cancel(t);
  EXPECT_FALSE(t.armed());
  EXPECT_FALSE(queue.next_deadline_ns().has_value());
  clock.set(1000);
  EXPECT_EQ(queue.run_due(), 0);
  EXPECT_EQ(fired, 0);
}

TEST(TimerQueue, PeriodicRearmFromTheCallbackIsBounded) {
  ManualClock clock;
  TimerQueue queue(clock);
  int fired = 0;
  uint64_t deadline = 0;
  Timer periodic([&] {
    ++fired;
    deadline += 10;
    queue.arm(periodic, deadline);
  });
  queue.arm(periodic, deadline);
  clock.set(45);
  EXPECT_EQ(queue.run_due(), 5);  // 0, 10, 20, 30, 40
  // A zero period would fire forever; run_due stops after max_rounds.
  Timer zero([&] { queue.arm(zero, 0); });
  queue.arm(zero, 0);
  EXPECT_EQ(queue.run_due(8), 8);
}

TEST(TimerQueue, DestroyedTimersLeaveTheQueue) {
  ManualClock clock;
  TimerQueue queue(clock);
  {
    Timer t([] {});
    queue.arm(t, 10);
  }
  EXPECT_FALSE(queue.next_deadline_ns().has_value());
  clock.set(100);
  EXPECT_EQ(queue.run_due(), 0);
}

}  // namespace
}  // namespace cella::devices
