#include "user/host_signals.h"

#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

extern "C" char cella_safe_syscall_start[], cella_safe_syscall_end[],
    cella_safe_syscall_interrupted[];

namespace cella::user {

volatile int g_host_signal_pending = 0;

namespace {

// Signals recorded by the catcher, in arrival order: one producer (the catcher, which never
// nests because it runs with every signal blocked) and one consumer (the process).
constexpr uint32_t kRingSize = 256;
abi::Siginfo g_ring[kRingSize];
std::atomic<uint32_t> g_head{0};
std::atomic<uint32_t> g_tail{0};
std::atomic<soft::SoftCpu*> g_cpu{nullptr};
struct sigaction g_previous[abi::kSignalCount + 1];

bool is_fault_signal(int signal) {
  return signal == SIGSEGV || signal == SIGBUS || signal == SIGILL || signal == SIGFPE ||
         signal == SIGTRAP;
}

// Signals the host cannot catch, or that glibc reserves for its threads (32 and 33: its
// sigaction refuses them).
bool uncatchable(int signal) {
  return signal == SIGKILL || signal == SIGSTOP || signal == 32 || signal == 33;
}

void forward_host_fault(int signal, siginfo_t* info, void* context) {
  const struct sigaction& previous = g_previous[signal];
  if ((previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction != nullptr) {
    previous.sa_sigaction(signal, info, context);
    return;
  }
  if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(signal);
    return;
  }
  ::signal(signal, SIG_DFL);  // the faulting instruction runs again and kills the process
}

void catcher(int signal, siginfo_t* info, void* context) {
  if (is_fault_signal(signal) && info->si_code > 0) {  // raised by the host CPU: our own bug
    forward_host_fault(signal, info, context);
    return;
  }
  const uint32_t head = g_head.load(std::memory_order_relaxed);
  if (head - g_tail.load(std::memory_order_acquire) < kRingSize) {
    std::memcpy(&g_ring[head % kRingSize], info, sizeof(abi::Siginfo));
    g_ring[head % kRingSize].signo = signal;
    g_head.store(head + 1, std::memory_order_release);
  }
  g_host_signal_pending = 1;
  auto* uc = static_cast<ucontext_t*>(context);
  greg_t& rip = uc->uc_mcontext.gregs[REG_RIP];
  if (rip >= reinterpret_cast<greg_t>(cella_safe_syscall_start) &&
      rip < reinterpret_cast<greg_t>(cella_safe_syscall_end)) {
    rip = reinterpret_cast<greg_t>(cella_safe_syscall_interrupted);
  }
  if (soft::SoftCpu* cpu = g_cpu.load(std::memory_order_relaxed)) cpu->request_stop();
}

void install_catcher(int signal, int extra_flags) {
  struct sigaction action {};
  action.sa_sigaction = &catcher;
  action.sa_flags = SA_SIGINFO | extra_flags;  // no SA_RESTART: blocking calls must return
  sigfillset(&action.sa_mask);
  struct sigaction previous {};
  sigaction(signal, &action, &previous);
  if (previous.sa_sigaction != &catcher) g_previous[signal] = previous;
}

}  // namespace

namespace host_signal_detail {

bool take(abi::Siginfo& out) {
  const uint32_t tail = g_tail.load(std::memory_order_relaxed);
  if (tail == g_head.load(std::memory_order_acquire)) return false;
  out = g_ring[tail % kRingSize];
  g_tail.store(tail + 1, std::memory_order_release);
  return true;
}

}  // namespace host_signal_detail

void set_signal_cpu(soft::SoftCpu* cpu) {
  g_cpu.store(cpu, std::memory_order_relaxed);
}

bool host_ignores(int signal) {
  if (uncatchable(signal)) return false;
  struct sigaction current {};
  sigaction(signal, nullptr, &current);
  return !(current.sa_flags & SA_SIGINFO) && current.sa_handler == SIG_IGN;
}

void set_host_disposition(int signal, uint64_t guest_handler, uint64_t guest_flags) {
  if (uncatchable(signal)) return;
  if (guest_handler == abi::kSigIgn && !is_fault_signal(signal)) {
    ::signal(signal, SIG_IGN);
    return;
  }
  int flags = 0;
  if (signal == SIGCHLD) {
    if (guest_flags & abi::kSaNocldstop) flags |= SA_NOCLDSTOP;
    if (guest_flags & abi::kSaNocldwait) flags |= SA_NOCLDWAIT;
  }
  install_catcher(signal, flags);
}

void set_host_mask(uint64_t mask) {
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, nullptr, sizeof mask);
}

void die_by_signal(int signal) {
  ::signal(signal, SIG_DFL);
  const uint64_t unblock = abi::sigbit(signal);
  syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &unblock, nullptr, sizeof unblock);
  kill(getpid(), signal);
  // Not reached for a terminating signal; the shell convention otherwise.
  _exit(128 + signal);
}

void stop_by_signal(int signal) {
  ::signal(signal, SIG_DFL);
  const uint64_t unblock = abi::sigbit(signal);
  syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &unblock, nullptr, sizeof unblock);
  kill(getpid(), signal);  // stops here until SIGCONT
  install_catcher(signal, 0);
}

}  // namespace cella::user
