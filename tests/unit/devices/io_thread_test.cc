// Device work off the machine's thread: order, continuations on the draining thread, the
// eventfd and the kick, and a destructor that finishes queued work.
#include "devices/io_thread.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <thread>
#include <vector>

namespace cella::devices {
namespace {

TEST(IoThread, RunsWorkInOrderAndContinuationsOnTheDrainingThread) {
  auto completions = CompletionQueue::create();
  ASSERT_TRUE(completions);
  std::atomic<int> kicks{0};
  (*completions)->set_kick([&] { ++kicks; });
  std::vector<int> worked;
  std::vector<int> done;
  const std::thread::id machine_thread = std::this_thread::get_id();
  std::thread::id work_thread;
  {
    IoThread io("test-io", **completions);
    for (int i = 0; i < 50; ++i) {
      io.submit(
          [&, i] {
            worked.push_back(i);
            work_thread = std::this_thread::get_id();
          },
          [&, i] {
            EXPECT_EQ(std::this_thread::get_id(), machine_thread);
            done.push_back(i);
          });
    }
    io.wait_idle();
    pollfd fd = {(*completions)->fd(), POLLIN, 0};
    EXPECT_EQ(::poll(&fd, 1, 0), 1);  // the eventfd says continuations wait
    EXPECT_EQ((*completions)->run_posted(), 50u);
    EXPECT_EQ(::poll(&fd, 1, 0), 0);  // drained
  }
  EXPECT_NE(work_thread, machine_thread);
  ASSERT_EQ(done.size(), 50u);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(worked[i], i);
    EXPECT_EQ(done[i], i);
  }
  EXPECT_EQ(kicks.load(), 50);
}

TEST(IoThread, DestructionFinishesQueuedWork) {
  auto completions = CompletionQueue::create();
  ASSERT_TRUE(completions);
  std::atomic<int> worked{0};
  {
    IoThread io("test-io", **completions);
    for (int i = 0; i < 20; ++i) io.submit([&] { ++worked; }, [] {});
  }
  EXPECT_EQ(worked.load(), 20);
  EXPECT_EQ((*completions)->run_posted(), 20u);
}

TEST(InlineWorkQueue, RunsWorkAtOnceAndDefersTheContinuation) {
  auto completions = CompletionQueue::create();
  ASSERT_TRUE(completions);
  InlineWorkQueue inline_queue(**completions);
  bool worked = false, done = false;
  inline_queue.submit([&] { worked = true; }, [&] { done = true; });
  EXPECT_TRUE(worked);
  EXPECT_FALSE(done);
  (*completions)->run_posted();
  EXPECT_TRUE(done);
}

}  // namespace
}  // namespace cella::devices
