#include "user/signal_state.h"

#include <bit>
#include <cerrno>

namespace cella::user {

namespace {

using A = DefaultAction;
// signal(7), "Standard signals", indexed by signal number (0 unused); real-time signals
// terminate.
constexpr DefaultAction kDefaults[kFirstRealtimeSignal] = {
    A::kTerminate,                                               // 0 (unused)
    A::kTerminate, A::kTerminate, A::kCore,      A::kCore,       // HUP INT QUIT ILL
    A::kCore,      A::kCore,      A::kCore,      A::kCore,       // TRAP ABRT BUS FPE
    A::kTerminate, A::kTerminate, A::kCore,      A::kTerminate,  // KILL USR1 SEGV USR2
    A::kTerminate, A::kTerminate, A::kTerminate, A::kTerminate,  // PIPE ALRM TERM STKFLT
    A::kIgnore,    A::kIgnore,    A::kStop,      A::kStop,       // CHLD CONT STOP TSTP
    A::kStop,      A::kStop,      A::kIgnore,    A::kCore,       // TTIN TTOU URG XCPU
    A::kCore,      A::kTerminate, A::kTerminate, A::kIgnore,     // XFSZ VTALRM PROF WINCH
    A::kTerminate, A::kTerminate, A::kCore,                      // IO PWR SYS
};

}  // namespace

DefaultAction default_action(int signal) {
  return signal < kFirstRealtimeSignal ? kDefaults[signal] : DefaultAction::kTerminate;
}

SignalState::SignalState() = default;

bool SignalState::ignored(int signal) const {
  if (blocked_ & abi::sigbit(signal)) return false;
  const uint64_t handler = actions_[signal].handler;
  return handler == abi::kSigIgn ||
         (handler == abi::kSigDfl && default_action(signal) == DefaultAction::kIgnore);
}

void SignalState::set_action(int signal, const abi::KernelSigaction& action) {
  actions_[signal] = action;
  const uint64_t handler = action.handler;
  const bool discards =
      handler == abi::kSigIgn ||
      (handler == abi::kSigDfl && default_action(signal) == DefaultAction::kIgnore);
  if (discards && (pending_ & abi::sigbit(signal))) {
    pending_ &= ~abi::sigbit(signal);
    realtime_[signal].clear();
  }
}

void SignalState::queue(const abi::Siginfo& info) {
  const int signal = info.signo;
  if (signal < 1 || signal > abi::kSignalCount || ignored(signal)) return;
  if (signal >= kFirstRealtimeSignal) {
    realtime_[signal].push_back(info);
  } else if (pending_ & abi::sigbit(signal)) {
    return;  // a standard signal is pending at most once
  } else {
    standard_[signal] = info;
  }
  pending_ |= abi::sigbit(signal);
}

void SignalState::force(const abi::Siginfo& info) {
  const int signal = info.signo;
  if ((blocked_ & abi::sigbit(signal)) || actions_[signal].handler == abi::kSigIgn) {
    blocked_ &= ~abi::sigbit(signal);
    actions_[signal].handler = abi::kSigDfl;
  }
  // The fault replaces any pending instance: it describes the current instruction.
  if (signal < kFirstRealtimeSignal) pending_ &= ~abi::sigbit(signal);
  queue(info);
}

int SignalState::next_deliverable(uint64_t mask) {
  for (;;) {
    uint64_t ready = pending_ & ~mask;
    if (ready == 0) return 0;
    if (ready & kSynchronous) ready &= kSynchronous;
    const int signal = std::countr_zero(ready) + 1;
    const uint64_t handler = actions_[signal].handler;
    const bool discard =
        handler == abi::kSigIgn ||
        (handler == abi::kSigDfl && default_action(signal) == DefaultAction::kIgnore);
    if (!discard) return signal;
    dequeue(signal);
  }
}

int SignalState::next_pending_in(uint64_t set) const {
  const uint64_t ready = pending_ & set;
  return ready == 0 ? 0 : std::countr_zero(ready) + 1;
}

abi::StackT SignalState::altstack_report(uint64_t sp) const {
  abi::StackT report = altstack;
  if (altstack_enabled() && on_altstack(sp)) report.flags |= abi::kSsOnstack;
  return report;
}

int64_t SignalState::set_altstack(const abi::StackT& requested, uint64_t sp) {
  // kernel/signal.c do_sigaltstack.
  if (on_altstack(sp)) return -EPERM;
  const auto autodisarm = static_cast<int32_t>(abi::kSsAutodisarm);
  const int32_t mode = requested.flags & ~autodisarm;
  if (mode != 0 && mode != abi::kSsOnstack && mode != abi::kSsDisable) return -EINVAL;
  if (mode == abi::kSsDisable) {
    altstack = abi::StackT{0, abi::kSsDisable, 0, 0};
    return 0;
  }
  if (requested.size < abi::kMinSigstksz) return -ENOMEM;
  altstack = abi::StackT{requested.sp, requested.flags & autodisarm, 0, requested.size};
  return 0;
}

abi::Siginfo SignalState::dequeue(int signal) {
  abi::Siginfo info{};
  if (signal >= kFirstRealtimeSignal) {
    auto& queue = realtime_[signal];
    if (!queue.empty()) {
      info = queue.front();
      queue.pop_front();
    }
    if (queue.empty()) pending_ &= ~abi::sigbit(signal);
  } else {
    info = standard_[signal];
    pending_ &= ~abi::sigbit(signal);
  }
  return info;
}

}  // namespace cella::user
