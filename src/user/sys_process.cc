// Process system calls: exit, fork/vfork/clone (the host forks the whole process VM), execve
// (the host executes `cella user` on the new program), and per-process CPU state.
#include <linux/sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <asm/prctl.h>

#include <cerrno>
#include <vector>

#include "base/log.h"
#include "user/executable.h"
#include "user/host_signals.h"
#include "user/process.h"
#include "user/syscall_args.h"
#include "user/syscall_handlers.h"

namespace cella::user {

namespace {

// Clone flags the host performs as asked. CLONE_VM never reaches the host (the child gets a
// copy of the guest's memory) and CLONE_SETTLS is emulated (the host's FS base is the
// emulator's own).
constexpr uint64_t kHostCloneFlags =
    CSIGNAL | CLONE_VFORK | CLONE_PARENT | CLONE_PIDFD | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID |
    CLONE_CHILD_CLEARTID | CLONE_FS | CLONE_FILES | CLONE_SYSVSEM | CLONE_UNTRACED | CLONE_IO |
    CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
    CLONE_NEWNET;
constexpr uint64_t kEmulatedCloneFlags = CLONE_VM | CLONE_SETTLS | CLONE_DETACHED;

// execve(2) limits: MAX_ARG_STRLEN per string, and a bound on the total far above any host's
// ARG_MAX (the host's execve then gives the precise E2BIG) that keeps a hostile guest from
// exhausting the emulator's memory.
constexpr size_t kMaxArgString = 32 * 4096;
constexpr size_t kMaxArgTotal = size_t{64} << 20;

int64_t read_string_array(Process& process, uint64_t guest, std::vector<std::string>& out) {
  if (guest == 0) return 0;  // Linux treats a null argv or envp as empty
  size_t total = 0;
  for (uint64_t i = 0;; ++i) {
    if (total > kMaxArgTotal) return -E2BIG;
    uint64_t pointer;
    if (!process.memory().copy_in(&pointer, guest + i * 8, 8)) return -EFAULT;
    if (pointer == 0) return 0;
    std::string s;
    const int error = process.memory().read_string(pointer, s, kMaxArgString);
    if (error == -ENAMETOOLONG) return -E2BIG;
    if (error != 0) return error;
    total += s.size() + 1 + sizeof(uint64_t);
    out.push_back(std::move(s));
  }
}

int64_t fork_process(Process& process, uint64_t flags, uint64_t stack, uint64_t parent_tid,
                     uint64_t child_tid, uint64_t tls) {
  if ((flags & CLONE_THREAD) || (flags & CLONE_SIGHAND) ||
      ((flags & CLONE_VM) && !(flags & CLONE_VFORK))) {
    static bool logged = false;
    if (!logged) log::warn("threads (clone with CLONE_VM) are not supported");
    logged = true;
    return -ENOSYS;
  }
  if (flags & ~(kHostCloneFlags | kEmulatedCloneFlags)) return -EINVAL;
  AddressSpace& memory = process.memory();
  const auto pointer = [&](uint64_t flag, uint64_t guest, uint8_t*& host) {
    host = nullptr;
    if (!(flags & flag)) return true;
    host = memory.host_range(guest, sizeof(int32_t), GuestAccess::kWrite);
    return host != nullptr;
  };
  uint8_t *host_parent_tid, *host_child_tid, *unused;
  if (!pointer(CLONE_PARENT_SETTID, parent_tid, host_parent_tid) ||
      !pointer(CLONE_PIDFD, parent_tid, unused) ||
      !pointer(CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID, child_tid, host_child_tid)) {
    return -EFAULT;
  }
  if (flags & CLONE_PIDFD) host_parent_tid = unused;
  const long pid =
      syscall(SYS_clone, flags & kHostCloneFlags, 0, host_parent_tid, host_child_tid, 0);
  if (pid < 0) return -errno;
  if (pid > 0) return pid;
  // The child: a new process with no pending signals.
  if (!(flags & CLONE_VM)) process.reset_code_after_fork();
  process.discard_pending_signals();
  if (stack != 0) process.cpu().gpr[static_cast<int>(x86::Gpr::kRsp)] = stack;
  if (flags & CLONE_CHILD_CLEARTID) process.clear_child_tid = child_tid;
  if (flags & CLONE_SETTLS) process.set_segment_base(x86::Segment::kFs, tls);
  return 0;
}

}  // namespace

int64_t sys_exit(Process& process, const SyscallSpec&, SyscallArgs& a) {
  process.exit(static_cast<int>(a.arg[0] & 0xff));
  return 0;
}

int64_t sys_clone(Process& process, const SyscallSpec&, SyscallArgs& a) {
  // x86-64 argument order: flags, stack, parent_tid, child_tid, tls.
  return fork_process(process, a.arg[0], a.arg[1], a.arg[2], a.arg[3], a.arg[4]);
}

int64_t sys_fork(Process& process, const SyscallSpec&, SyscallArgs&) {
  return fork_process(process, SIGCHLD, 0, 0, 0, 0);
}

int64_t sys_vfork(Process& process, const SyscallSpec&, SyscallArgs&) {
  return fork_process(process, CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0);
}

int64_t sys_execve(Process& process, const SyscallSpec&, SyscallArgs& a) {
  std::string path;
  if (const int error = process.memory().read_string(a.arg[0], path)) return error;
  std::vector<std::string> argv, envp;
  if (const int64_t error = read_string_array(process, a.arg[1], argv)) return error;
  if (const int64_t error = read_string_array(process, a.arg[2], envp)) return error;
  const std::string program = host_path(process, path);
  // Check the program first: a bad one is an error return, the process goes on.
  auto opened = open_executable(program, argv);
  if (auto* failure = std::get_if<ExecFailure>(&opened)) return -failure->error_number;

  std::vector<std::string> command{"cella", "user"};
  if (process.options().trace_syscalls) command.push_back("--strace");
  if (process.options().report_stats) command.push_back("--stats");
  command.insert(command.end(), {"--argv0", argv.empty() ? std::string() : argv[0], "--", program});
  if (argv.size() > 1) command.insert(command.end(), argv.begin() + 1, argv.end());
  std::vector<char*> host_argv, host_envp;
  for (std::string& s : command) host_argv.push_back(s.data());
  host_argv.push_back(nullptr);
  for (std::string& s : envp) host_envp.push_back(s.data());
  host_envp.push_back(nullptr);
  // The new program starts with the guest's signal mask, and its pending (blocked) signals
  // stay pending (execve(2)): they are handed to the host, blocked there, to carry over.
  set_host_mask(process.signals().blocked());
  for (int signal = 1; signal <= abi::kSignalCount; ++signal) {
    if (process.signals().pending() & abi::sigbit(signal))
      syscall(SYS_tgkill, getpid(), gettid(), signal);
  }
  ::execve("/proc/self/exe", host_argv.data(), host_envp.data());
  const int error = errno;
  set_host_mask(0);
  return -error;
}

int64_t sys_arch_prctl(Process& process, const SyscallSpec&, SyscallArgs& a) {
  // arch/x86/kernel/process_64.c do_arch_prctl_64: bases must lie in the user half.
  constexpr uint64_t kTaskSizeMax = (uint64_t{1} << 47) - 4096;
  const uint64_t address = a.arg[1];
  soft::SoftCpu& cpu = process.cpu();
  switch (a.arg[0]) {
    case ARCH_SET_FS:
    case ARCH_SET_GS:
      if (address >= kTaskSizeMax) return -EPERM;
      process.set_segment_base(a.arg[0] == ARCH_SET_FS ? x86::Segment::kFs : x86::Segment::kGs,
                               address);
      return 0;
    case ARCH_GET_FS:
    case ARCH_GET_GS: {
      const auto segment = a.arg[0] == ARCH_GET_FS ? x86::Segment::kFs : x86::Segment::kGs;
      const uint64_t base = cpu.segment_base[static_cast<int>(segment)];
      return process.memory().copy_out(address, &base, sizeof base) ? 0 : -EFAULT;
    }
    case ARCH_GET_CPUID:
      return 1;  // CPUID does not fault
    case ARCH_SET_CPUID:
      return -ENODEV;  // CPUID faulting is not offered
    default:
      return -EINVAL;
  }
}

int64_t sys_set_tid_address(Process& process, const SyscallSpec&, SyscallArgs& a) {
  process.clear_child_tid = a.arg[0];
  return gettid();
}

int64_t sys_set_robust_list(Process&, const SyscallSpec&, SyscallArgs& a) {
  // The list is only walked when a thread dies holding a lock; without threads the head is
  // accepted and never used (a host robust list would hold guest addresses).
  constexpr uint64_t kRobustListHeadSize = 24;
  return a.arg[1] == kRobustListHeadSize ? 0 : -EINVAL;
}

int64_t sys_prctl(Process& process, const SyscallSpec& spec, SyscallArgs& a) {
  struct Option {
    int option;
    ArgKind kind;  // of argument 2
    uint32_t size;
  };
  // prctl(2): the options a process VM can offer, and what argument 2 is.
  static constexpr Option kOptions[] = {
      {PR_SET_PDEATHSIG, ArgKind::kValue, 0},
      {PR_GET_PDEATHSIG, ArgKind::kOut, 4},
      {PR_GET_DUMPABLE, ArgKind::kValue, 0},
      {PR_SET_DUMPABLE, ArgKind::kValue, 0},
      {PR_GET_KEEPCAPS, ArgKind::kValue, 0},
      {PR_SET_KEEPCAPS, ArgKind::kValue, 0},
      {PR_SET_NAME, ArgKind::kIn, 16},
      {PR_GET_NAME, ArgKind::kOut, 16},
      {PR_CAPBSET_READ, ArgKind::kValue, 0},
      {PR_SET_TIMERSLACK, ArgKind::kValue, 0},
      {PR_GET_TIMERSLACK, ArgKind::kValue, 0},
      {PR_SET_CHILD_SUBREAPER, ArgKind::kValue, 0},
      {PR_GET_CHILD_SUBREAPER, ArgKind::kOut, 4},
      {PR_SET_NO_NEW_PRIVS, ArgKind::kValue, 0},
      {PR_GET_NO_NEW_PRIVS, ArgKind::kValue, 0},
      {PR_SET_THP_DISABLE, ArgKind::kValue, 0},
      {PR_GET_THP_DISABLE, ArgKind::kValue, 0},
  };
  for (const Option& option : kOptions) {
    if (static_cast<uint64_t>(option.option) != a.arg[0]) continue;
    uint64_t host[6] = {a.arg[0], a.arg[1], a.arg[2], a.arg[3], a.arg[4], 0};
    if (option.kind != ArgKind::kValue) {
      const auto access = option.kind == ArgKind::kIn ? GuestAccess::kRead : GuestAccess::kWrite;
      uint8_t* buffer = process.memory().host_range(a.arg[1], option.size, access);
      if (buffer == nullptr) return -EFAULT;
      host[1] = reinterpret_cast<uint64_t>(buffer);
    }
    return host_call(spec.number, host);
  }
  log::info("prctl option {} is not supported", a.arg[0]);
  return -EINVAL;
}

}  // namespace cella::user
