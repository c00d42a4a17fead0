// SignalState: pending signals, masks, dispositions and the alternate stack, as the kernel
// keeps them.
#include "user/signal_state.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace cella::user {
namespace {

abi::Siginfo info(int signal, int32_t code = abi::kSiUser) {
  abi::Siginfo i{};
  i.signo = signal;
  i.code = code;
  return i;
}

abi::KernelSigaction handler(uint64_t address) {
  return abi::KernelSigaction{address, abi::kSaRestorer, 0x1234, 0};
}

constexpr int kSigusr1 = 10, kSigusr2 = 12, kSigrtmin = 34;

TEST(SignalState, StandardSignalsArePendingOnceRealTimeOnesQueue) {
  SignalState s;
  s.set_action(kSigusr1, handler(0x1000));
  s.set_action(kSigrtmin, handler(0x1000));
  s.queue(info(kSigusr1));
  s.queue(info(kSigusr1));
  s.queue(info(kSigrtmin, 1));
  s.queue(info(kSigrtmin, 2));
  EXPECT_EQ(s.next_deliverable(), kSigusr1);
  s.dequeue(kSigusr1);
  EXPECT_EQ(s.next_deliverable(), kSigrtmin);
  EXPECT_EQ(s.dequeue(kSigrtmin).code, 1);
  EXPECT_EQ(s.next_deliverable(), kSigrtmin);
  EXPECT_EQ(s.dequeue(kSigrtmin).code, 2);
  EXPECT_EQ(s.next_deliverable(), 0);
}

TEST(SignalState, BlockedSignalsWaitAndIgnoredOnesVanish) {
  SignalState s;
  s.set_blocked(abi::sigbit(kSigusr2));
  s.queue(info(kSigusr2));
  EXPECT_EQ(s.next_deliverable(), 0);
  EXPECT_EQ(s.pending(), abi::sigbit(kSigusr2));
  s.set_blocked(0);
  EXPECT_EQ(s.next_deliverable(), kSigusr2);  // default action: terminate
  // SIGCHLD's default is to ignore: it is not even queued.
  s.queue(info(abi::kSigchld));
  EXPECT_EQ(s.pending() & abi::sigbit(abi::kSigchld), 0u);
  // Ignoring a pending signal discards it.
  s.set_action(kSigusr2, abi::KernelSigaction{abi::kSigIgn, 0, 0, 0});
  EXPECT_EQ(s.pending(), 0u);
  // KILL and STOP cannot be blocked.
  s.set_blocked(~uint64_t{0});
  EXPECT_EQ(s.blocked() & kUnblockable, 0u);
}

TEST(SignalState, FaultsComeFirstAndCannotBeBlocked) {
  SignalState s;
  s.set_action(kSigusr1, handler(0x1000));
  s.set_action(abi::kSigsegv, handler(0x2000));
  s.set_blocked(abi::sigbit(abi::kSigsegv));
  s.queue(info(kSigusr1));
  s.force(info(abi::kSigsegv, abi::kSegvMaperr));
  EXPECT_EQ(s.blocked() & abi::sigbit(abi::kSigsegv), 0u);
  EXPECT_EQ(s.action(abi::kSigsegv).handler, abi::kSigDfl);  // blocked fault: default action
  EXPECT_EQ(s.next_deliverable(), abi::kSigsegv);
  EXPECT_EQ(s.dequeue(abi::kSigsegv).code, abi::kSegvMaperr);
  EXPECT_EQ(s.next_deliverable(), kSigusr1);
}

TEST(SignalState, WaitsCanLookForSignalsInASet) {
  SignalState s;
  s.set_blocked(abi::sigbit(kSigusr1) | abi::sigbit(kSigusr2));
  s.queue(info(kSigusr2));
  EXPECT_EQ(s.next_pending_in(abi::sigbit(kSigusr1)), 0);
  EXPECT_EQ(s.next_pending_in(abi::sigbit(kSigusr1) | abi::sigbit(kSigusr2)), kSigusr2);
}

TEST(SignalState, AlternateStack) {
  SignalState s;
  EXPECT_FALSE(s.altstack_enabled());
  EXPECT_EQ(s.altstack_report(0x5000).flags, abi::kSsDisable);
  EXPECT_EQ(s.set_altstack({0x10000, 0, 0, 1024}, 0x5000), -ENOMEM);
  EXPECT_EQ(s.set_altstack({0x10000, 7, 0, 8192}, 0x5000), -EINVAL);
  EXPECT_EQ(s.set_altstack({0x10000, 0, 0, 8192}, 0x5000), 0);
  EXPECT_TRUE(s.on_altstack(0x11000));
  EXPECT_FALSE(s.on_altstack(0x10000));  // the stack grows down from sp + size
  EXPECT_EQ(s.altstack_report(0x11000).flags, abi::kSsOnstack);
  EXPECT_EQ(s.altstack_report(0x5000).flags, 0);
  EXPECT_EQ(s.set_altstack({0, abi::kSsDisable, 0, 0}, 0x11000), -EPERM);
  EXPECT_EQ(s.set_altstack({0, abi::kSsDisable, 0, 0}, 0x5000), 0);
  EXPECT_FALSE(s.altstack_enabled());
}

TEST(SignalState, DefaultActionsFollowSignal7) {
  EXPECT_EQ(default_action(2), DefaultAction::kTerminate);  // SIGINT
  EXPECT_EQ(default_action(3), DefaultAction::kCore);       // SIGQUIT
  EXPECT_EQ(default_action(abi::kSigsegv), DefaultAction::kCore);
  EXPECT_EQ(default_action(abi::kSigchld), DefaultAction::kIgnore);
  EXPECT_EQ(default_action(abi::kSigwinch), DefaultAction::kIgnore);
  EXPECT_EQ(default_action(abi::kSigtstp), DefaultAction::kStop);
  EXPECT_EQ(default_action(31), DefaultAction::kCore);  // SIGSYS
  EXPECT_EQ(default_action(40), DefaultAction::kTerminate);
}

}  // namespace
}  // namespace cella::user
