// The guest's signal state as the Linux kernel keeps it for a single-threaded process
// (kernel/signal.c): dispositions, the blocked mask, the alternate stack and pending signals
// (standard signals pending at most once, real-time signals queued in order). Pure
// bookkeeping: delivery (signal_frame.h) and host plumbing (host_signals.h) live elsewhere.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>

#include "user/linux_abi.h"

namespace cella::user {

// signal(7), "Standard signals": the default action of each signal.
enum class DefaultAction : uint8_t { kTerminate, kCore, kIgnore, kStop };
DefaultAction default_action(int signal);

// The first real-time signal (SIGRTMIN as the kernel numbers it).
inline constexpr int kFirstRealtimeSignal = 32;
// KILL and STOP can be neither blocked nor caught.
inline constexpr uint64_t kUnblockable = abi::sigbit(abi::kSigkill) | abi::sigbit(abi::kSigstop);
// Faults the CPU raises are delivered before anything else (kernel/signal.c SYNCHRONOUS_MASK).
inline constexpr uint64_t kSynchronous = abi::sigbit(abi::kSigsegv) | abi::sigbit(abi::kSigbus) |
                                         abi::sigbit(abi::kSigill) | abi::sigbit(abi::kSigtrap) |
                                         abi::sigbit(abi::kSigfpe) | abi::sigbit(31 /* SIGSYS */);

class SignalState {
 public:
  SignalState();

  const abi::KernelSigaction& action(int signal) const { return actions_[signal]; }
  // Sets a disposition; pending signals it now ignores are discarded (POSIX sigaction).
  void set_action(int signal, const abi::KernelSigaction& action);

  uint64_t blocked() const { return blocked_; }
  void set_blocked(uint64_t mask) { blocked_ = mask & ~kUnblockable; }

  // A mask to restore once a signal has been handled (rt_sigsuspend, ppoll, pselect6).
  std::optional<uint64_t> saved_mask;

  // The alternate signal stack (sigaltstack(2)); flags hold SS_DISABLE or SS_AUTODISARM.
  abi::StackT altstack{0, abi::kSsDisable, 0, 0};
  bool altstack_enabled() const { return !(altstack.flags & abi::kSsDisable); }
  bool on_altstack(uint64_t sp) const {
    return altstack_enabled() && sp > altstack.sp && sp - altstack.sp <= altstack.size;
  }
  // The settings as sigaltstack reports them to code running with stack pointer `sp`
  // (SS_ONSTACK while on the alternate stack).
  abi::StackT altstack_report(uint64_t sp) const;
  // Sets the alternate stack: 0, -EPERM (running on it), -EINVAL or -ENOMEM (too small).
  int64_t set_altstack(const abi::StackT& requested, uint64_t sp);

  // Whether `signal` would be discarded on arrival: ignored and not blocked.
  bool ignored(int signal) const;
  // Makes `info.signo` pending (standard signals at most once).
  void queue(const abi::Siginfo& info);
  uint64_t pending() const { return pending_; }
  // The next signal to act on (a handler or a default action that does something), after
  // discarding pending signals whose action is to ignore them; 0 when none. `mask` is the
  // blocked mask to test against.
  int next_deliverable(uint64_t mask);
  int next_deliverable() { return next_deliverable(blocked_); }
  // The lowest pending signal in `set` regardless of the blocked mask, or 0.
  int next_pending_in(uint64_t set) const;
  abi::Siginfo dequeue(int signal);
  void clear_pending() {
    pending_ = 0;
    for (auto& queue : realtime_) queue.clear();
  }

  // A synchronous fault: a blocked or ignored fault signal is unblocked and reset to its
  // default first, so a fault can never be ignored (kernel/signal.c force_sig_info).
  void force(const abi::Siginfo& info);

 private:
  std::array<abi::KernelSigaction, abi::kSignalCount + 1> actions_{};
  uint64_t blocked_ = 0;
  uint64_t pending_ = 0;
  std::array<abi::Siginfo, abi::kSignalCount + 1> standard_{};
  std::array<std::deque<abi::Siginfo>, abi::kSignalCount + 1> realtime_;
};

}  // namespace cella::user
