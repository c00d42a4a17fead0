// System calls that wait: sleeps (resumed on absolute deadlines when a signal did not
// interrupt them), select/poll/epoll with a temporary signal mask, and futexes (passed to the
// host on the guest's memory, so they also work between processes sharing memory).
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>

#include <cerrno>

#include "user/deadline.h"
#include "user/host_signals.h"
#include "user/process.h"
#include "user/syscall_args.h"
#include "user/syscall_handlers.h"

namespace cella::user {

namespace {

// Sleeps until `deadline` on `clock`; a signal that will run a handler (or a default
// action) ends the sleep with the time left stored at `remaining` (if not null).
int64_t sleep_until(Process& process, clockid_t clock, const timespec& deadline,
                    uint64_t remaining) {
  for (;;) {
    const int64_t r = safe_syscall(SYS_clock_nanosleep, static_cast<uint64_t>(clock), TIMER_ABSTIME,
                                   reinterpret_cast<uint64_t>(&deadline), 0);
    if (r != -EINTR) return r;
    if (process.signal_pending(process.signals().blocked())) {
      const timespec left = time_left(clock, deadline);
      if (remaining != 0 && !process.memory().copy_out(remaining, &left, sizeof left)) {
        return -EFAULT;
      }
      return -kErestartnohand;
    }
  }
}

// Runs `call` with the guest's mask replaced by the sigset at `mask_address` (if not null),
// restored afterwards unless a signal interrupted the call: then the handler runs with the
// temporary mask and its sigreturn restores the old one (the kernel's set_user_sigmask and
// restore_saved_sigmask_unless).
template <class F>
int64_t with_mask(Process& process, uint64_t mask_address, uint64_t mask_size, F&& call) {
  SignalState& signals = process.signals();
  if (mask_address != 0) {
    uint64_t mask;
    if (mask_size != sizeof mask) return -EINVAL;
    if (!process.memory().copy_in(&mask, mask_address, sizeof mask)) return -EFAULT;
    signals.saved_mask = signals.blocked();
    signals.set_blocked(mask);
    if (process.signal_pending(signals.blocked())) return -kErestartnohand;
  }
  const int64_t result = call();
  const bool interrupted = result == -kErestartnohand || result == -kErestartsys;
  if (mask_address != 0 && !interrupted) {
    signals.set_blocked(*signals.saved_mask);
    signals.saved_mask.reset();
  }
  return result;
}

// select/pselect6 descriptor sets: (nfds + 63) / 64 longs each (fs/select.c FDS_BYTES).
int64_t translate_fd_sets(Process& process, const SyscallArgs& a, uint64_t (&host)[6]) {
  const auto nfds = static_cast<int32_t>(a.arg[0]);
  if (nfds < 0) return -EINVAL;
  const uint64_t bytes = (static_cast<uint64_t>(nfds) + 63) / 64 * 8;
  host[0] = a.arg[0];
  for (int i = 1; i <= 3; ++i) {
    host[i] = 0;
    if (a.arg[i] == 0) continue;
    uint8_t* set = process.memory().host_range(a.arg[i], bytes, GuestAccess::kWrite);
    if (set == nullptr) return -EFAULT;
    host[i] = reinterpret_cast<uint64_t>(set);
  }
  return 0;
}

struct FutexCommand {
  bool known = false;
  GuestAccess uaddr = GuestAccess::kRead;
  bool timeout = false;  // argument 4 points to a timespec (else it is a number)
  bool uses_uaddr2 = false;
  GuestAccess uaddr2 = GuestAccess::kRead;
};

// futex(2), by command (FUTEX_CMD_MASK).
FutexCommand futex_command(uint64_t command) {
  using A = GuestAccess;
  switch (command) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET:
      return {true, A::kRead, true, false, A::kRead};
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET:
      return {true, A::kRead, false, false, A::kRead};
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE:
      return {true, A::kRead, false, true, A::kRead};
    case FUTEX_WAKE_OP:
      return {true, A::kRead, false, true, A::kWrite};
    case FUTEX_LOCK_PI:
    case FUTEX_LOCK_PI2:
      return {true, A::kWrite, true, false, A::kRead};
    case FUTEX_UNLOCK_PI:
    case FUTEX_TRYLOCK_PI:
      return {true, A::kWrite, false, false, A::kRead};
    case FUTEX_WAIT_REQUEUE_PI:
      return {true, A::kRead, true, true, A::kWrite};
    case FUTEX_CMP_REQUEUE_PI:
      return {true, A::kRead, false, true, A::kWrite};
    default:
      return {};
  }
}

}  // namespace

int64_t sys_nanosleep(Process& process, const SyscallSpec&, SyscallArgs& a) {
  timespec request;
  if (!process.memory().copy_in(&request, a.arg[0], sizeof request)) return -EFAULT;
  if (!valid_timespec(request)) return -EINVAL;
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return sleep_until(process, CLOCK_MONOTONIC, add_timespec(now, request), a.arg[1]);
}

int64_t sys_clock_nanosleep(Process& process, const SyscallSpec&, SyscallArgs& a) {
  const auto clock = static_cast<clockid_t>(a.arg[0]);
  timespec request;
  if (!process.memory().copy_in(&request, a.arg[2], sizeof request)) return -EFAULT;
  if (!valid_timespec(request)) return -EINVAL;
  if (a.arg[1] & TIMER_ABSTIME) return sleep_until(process, clock, request, 0);
  timespec now{};
  if (clock_gettime(clock, &now) != 0) return -EINVAL;
  return sleep_until(process, clock, add_timespec(now, request), a.arg[3]);
}

int64_t sys_select(Process& process, const SyscallSpec& spec, SyscallArgs& a) {
  uint64_t host[6] = {};
  if (const int64_t error = translate_fd_sets(process, a, host)) return error;
  if (a.arg[4] != 0) {
    uint8_t* timeout = process.memory().host_range(a.arg[4], 16, GuestAccess::kWrite);
    if (timeout == nullptr) return -EFAULT;
    host[4] = reinterpret_cast<uint64_t>(timeout);
  }
  return interrupted_result(spec, host_call(a.number, host));
}

int64_t sys_pselect6(Process& process, const SyscallSpec& spec, SyscallArgs& a) {
  HostArgs translated;  // the timeout
  if (const int64_t error = translated.translate(process, spec, a)) return error;
  uint64_t host[6] = {};
  if (const int64_t error = translate_fd_sets(process, a, host)) return error;
  host[4] = translated.value[4];
  struct {
    uint64_t set, size;
  } sigdata{0, 0};
  if (a.arg[5] != 0 && !process.memory().copy_in(&sigdata, a.arg[5], sizeof sigdata)) {
    return -EFAULT;
  }
  return with_mask(process, sigdata.set, sigdata.size,
                   [&] { return interrupted_result(spec, host_call(a.number, host)); });
}

int64_t sys_ppoll(Process& process, const SyscallSpec& spec, SyscallArgs& a) {
  HostArgs host;
  if (const int64_t error = host.translate(process, spec, a)) return error;
  host.value[3] = 0;  // the guest's mask is emulated: the host's stays empty
  return with_mask(process, a.arg[3], a.arg[4],
                   [&] { return interrupted_result(spec, host_call(a.number, host.value)); });
}

int64_t sys_epoll_pwait(Process& process, const SyscallSpec& spec, SyscallArgs& a) {
  HostArgs host;
  if (const int64_t error = host.translate(process, spec, a)) return error;
  host.value[4] = 0;
  return with_mask(process, a.arg[4], a.arg[5],
                   [&] { return interrupted_result(spec, host_call(a.number, host.value)); });
}

int64_t sys_futex(Process& process, const SyscallSpec& spec, SyscallArgs& a) {
  const FutexCommand command = futex_command(a.arg[1] & FUTEX_CMD_MASK);
  if (!command.known) return -ENOSYS;
  AddressSpace& memory = process.memory();
  uint64_t host[6] = {0, a.arg[1], a.arg[2], a.arg[3], 0, a.arg[5]};
  uint8_t* uaddr = memory.host_range(a.arg[0], 4, command.uaddr);
  if (uaddr == nullptr) return -EFAULT;
  host[0] = reinterpret_cast<uint64_t>(uaddr);
  if (command.timeout && a.arg[3] != 0) {
    uint8_t* timeout = memory.host_range(a.arg[3], sizeof(timespec), GuestAccess::kRead);
    if (timeout == nullptr) return -EFAULT;
    host[3] = reinterpret_cast<uint64_t>(timeout);
  }
  if (command.uses_uaddr2) {
    uint8_t* uaddr2 = memory.host_range(a.arg[4], 4, command.uaddr2);
    if (uaddr2 == nullptr) return -EFAULT;
    host[4] = reinterpret_cast<uint64_t>(uaddr2);
  }
  return interrupted_result(spec, host_call(a.number, host));
}

}  // namespace cella::user
