// Signal system calls: the guest's dispositions, mask and alternate stack are emulated
// (signal_state.h); the host keeps catching (or ignoring) what the guest handles (or ignores).
#include <sys/syscall.h>
#include <time.h>

#include <cerrno>

#include "user/deadline.h"
#include "user/host_signals.h"
#include "user/process.h"
#include "user/signal_frame.h"
#include "user/syscall_handlers.h"

namespace cella::user {

namespace {

constexpr uint64_t kSigsetSize = 8;  // the kernel's sigset_t on x86-64
constexpr int kSigBlock = 0, kSigUnblock = 1, kSigSetmask = 2;

bool valid_signal(uint64_t signal) {
  return signal >= 1 && signal <= abi::kSignalCount;
}

}  // namespace

int64_t sys_rt_sigaction(Process& process, const SyscallSpec&, SyscallArgs& a) {
  const uint64_t signal = a.arg[0];
  if (a.arg[3] != kSigsetSize || !valid_signal(signal)) return -EINVAL;
  const int s = static_cast<int>(signal);
  if (a.arg[1] != 0 && (s == abi::kSigkill || s == abi::kSigstop)) return -EINVAL;
  const abi::KernelSigaction old = process.signals().action(s);
  if (a.arg[1] != 0) {
    abi::KernelSigaction action;
    if (!process.memory().copy_in(&action, a.arg[1], sizeof action)) return -EFAULT;
    action.mask &= ~kUnblockable;
    process.signals().set_action(s, action);
    set_host_disposition(s, action.handler, action.flags);
  }
  if (a.arg[2] != 0 && !process.memory().copy_out(a.arg[2], &old, sizeof old)) return -EFAULT;
  return 0;
}

int64_t sys_rt_sigprocmask(Process& process, const SyscallSpec&, SyscallArgs& a) {
  if (a.arg[3] != kSigsetSize) return -EINVAL;
  SignalState& signals = process.signals();
  const uint64_t old = signals.blocked();
  if (a.arg[1] != 0) {
    uint64_t set;
    if (!process.memory().copy_in(&set, a.arg[1], sizeof set)) return -EFAULT;
    switch (static_cast<int>(a.arg[0])) {
      case kSigBlock:
        signals.set_blocked(old | set);
        break;
      case kSigUnblock:
        signals.set_blocked(old & ~set);
        break;
      case kSigSetmask:
        signals.set_blocked(set);
        break;
      default:
        return -EINVAL;
    }
  }
  if (a.arg[2] != 0 && !process.memory().copy_out(a.arg[2], &old, sizeof old)) return -EFAULT;
  return 0;
}

int64_t sys_rt_sigreturn(Process& process, const SyscallSpec&, SyscallArgs&) {
  if (!pop_signal_frame(process)) {
    // arch/x86/kernel/signal_64.c: a bad frame is a SIGSEGV.
    abi::Siginfo info{};
    info.signo = abi::kSigsegv;
    info.code = abi::kSiKernel;
    process.signals().force(info);
  }
  return kKeepRegisters;
}

int64_t sys_rt_sigpending(Process& process, const SyscallSpec&, SyscallArgs& a) {
  if (a.arg[1] > kSigsetSize) return -EINVAL;
  process.take_host_signals();
  // kernel/signal.c do_sigpending: the pending signals that are blocked.
  const uint64_t pending = process.signals().pending() & process.signals().blocked();
  return process.memory().copy_out(a.arg[0], &pending, a.arg[1]) ? 0 : -EFAULT;
}

int64_t sys_rt_sigsuspend(Process& process, const SyscallSpec&, SyscallArgs& a) {
  if (a.arg[1] != kSigsetSize) return -EINVAL;
  uint64_t mask;
  if (!process.memory().copy_in(&mask, a.arg[0], sizeof mask)) return -EFAULT;
  SignalState& signals = process.signals();
  signals.saved_mask = signals.blocked();
  signals.set_blocked(mask);
  while (!process.signal_pending(signals.blocked())) process.wait_for_signal();
  return -kErestartnohand;
}

int64_t sys_pause(Process& process, const SyscallSpec&, SyscallArgs&) {
  while (!process.signal_pending(process.signals().blocked())) process.wait_for_signal();
  return -kErestartnohand;
}

int64_t sys_rt_sigtimedwait(Process& process, const SyscallSpec&, SyscallArgs& a) {
  if (a.arg[3] != kSigsetSize) return -EINVAL;
  uint64_t set;
  if (!process.memory().copy_in(&set, a.arg[0], sizeof set)) return -EFAULT;
  set &= ~kUnblockable;
  timespec deadline{};
  const bool timed = a.arg[2] != 0;
  if (timed) {
    timespec timeout;
    if (!process.memory().copy_in(&timeout, a.arg[2], sizeof timeout)) return -EFAULT;
    if (!valid_timespec(timeout)) return -EINVAL;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline = add_timespec(deadline, timeout);
  }
  SignalState& signals = process.signals();
  bool expired = false;
  for (;;) {
    process.take_host_signals();
    if (const int signal = signals.next_pending_in(set)) {
      const abi::Siginfo info = signals.dequeue(signal);
      if (a.arg[1] != 0 && !process.memory().copy_out(a.arg[1], &info, sizeof info)) {
        return -EFAULT;
      }
      return signal;
    }
    // Another signal with a handler ends the wait (kernel/signal.c do_sigtimedwait).
    if (signals.next_deliverable(signals.blocked() | set) != 0) return -EINTR;
    if (expired) return -EAGAIN;
    if (timed) {
      expired = safe_syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME,
                             reinterpret_cast<uint64_t>(&deadline), 0) == 0;
    } else {
      process.wait_for_signal();
    }
  }
}

int64_t sys_sigaltstack(Process& process, const SyscallSpec&, SyscallArgs& a) {
  SignalState& signals = process.signals();
  const uint64_t sp = process.cpu().gpr[static_cast<int>(x86::Gpr::kRsp)];
  const abi::StackT old = signals.altstack_report(sp);
  if (a.arg[0] != 0) {
    abi::StackT requested;
    if (!process.memory().copy_in(&requested, a.arg[0], sizeof requested)) return -EFAULT;
    if (const int64_t error = signals.set_altstack(requested, sp)) return error;
  }
  if (a.arg[1] != 0 && !process.memory().copy_out(a.arg[1], &old, sizeof old)) return -EFAULT;
  return 0;
}

}  // namespace cella::user
