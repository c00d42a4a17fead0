// Host signals on the guest's behalf. The process VM catches every catchable host signal the
// guest does not ignore: the catcher only records the signal (lock-free) and asks the CPU to stop
// at the next block boundary; the process then delivers it to the guest between instructions,
// with the guest's own mask and handlers. Signals the guest ignores are ignored by the host too
// (so they stay ignored across execve and SIGCHLD keeps its auto-reaping meaning).
//
// Host faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP raised by the host CPU) are bugs of
// the emulator, never the guest's: they go to the previous handler (the sanitizers') or kill.
#pragma once

#include <csignal>
#include <cstdint>

#include "engines/soft/cpu.h"
#include "user/linux_abi.h"

extern "C" int64_t cella_safe_syscall(const volatile int* pending, int64_t number, uint64_t a1,
                                      uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5,
                                      uint64_t a6);

namespace cella::user {

// Set by the catcher, cleared by take_host_signals(): a blocking call started while it is set
// returns -EINTR at once (safe_syscall.S).
extern volatile int g_host_signal_pending;

// A host system call that returns -EINTR instead of blocking when a signal is pending.
inline int64_t safe_syscall(int64_t number, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0,
                            uint64_t a4 = 0, uint64_t a5 = 0, uint64_t a6 = 0) {
  return cella_safe_syscall(&g_host_signal_pending, number, a1, a2, a3, a4, a5, a6);
}

// Installs nothing yet: records the CPU to stop when a signal arrives.
void set_signal_cpu(soft::SoftCpu* cpu);

// Sets the host disposition that carries out a guest disposition: SIG_IGN for SIG_IGN,
// the catcher otherwise (with SA_NOCLDSTOP/SA_NOCLDWAIT for SIGCHLD as the guest asked).
void set_host_disposition(int signal, uint64_t guest_handler, uint64_t guest_flags);

// Whether the host ignored `signal` when the process started (inherited across execve).
bool host_ignores(int signal);

// Moves the signals recorded since the last call into `out` (one callback per signal).
// Returns whether any signal arrived (even one that was only recorded as pending).
template <class F>
bool take_host_signals(F&& deliver);

// Terminates the process by `signal` (its default action), so the exit status is the one a
// native run would have; a core dump too when the signal's default does so.
[[noreturn]] void die_by_signal(int signal);
// Stops the process by `signal` (SIGTSTP, SIGTTIN, SIGTTOU, SIGSTOP) until SIGCONT.
void stop_by_signal(int signal);

// Sets the host signal mask (execve hands the guest's mask to the new program).
void set_host_mask(uint64_t mask);

// ---- internal: the lock-free record the catcher fills ----
namespace host_signal_detail {
bool take(abi::Siginfo& out);
}  // namespace host_signal_detail

template <class F>
bool take_host_signals(F&& deliver) {
  if (!g_host_signal_pending) return false;
  g_host_signal_pending = 0;
  abi::Siginfo info;
  while (host_signal_detail::take(info)) deliver(info);
  return true;
}

}  // namespace cella::user
