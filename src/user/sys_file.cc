// File system calls whose arguments need more than the table's argument kinds: open of the
// guest's own /proc files (proc_files.h), ioctl and
// fcntl (the argument's meaning depends on the command: tables below), vectored I/O, message
// sockets, and readlink (which answers /proc/self/exe itself).
#include <asm/ioctls.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "base/file.h"
#include "base/log.h"
#include "user/proc_files.h"
#include "user/process.h"
#include "user/syscall_args.h"
#include "user/syscall_handlers.h"

namespace cella::user {

namespace {

// A command's third argument: a value, or a pointer to `size` bytes read, written or both.
struct CommandArg {
  uint32_t command;
  ArgKind kind;
  uint32_t size;
};

using K = ArgKind;
// Legacy terminal and socket ioctls without an _IOC size encoding (ioctl_tty(2),
// include/uapi/asm-generic/ioctls.h, netdevice(7): struct termios 36 bytes, struct termio 18,
// struct winsize 8, struct ifreq 40).
// clang-format off
constexpr CommandArg kIoctls[] = {
    {TCGETS,      K::kOut,   36},
    {TCSETS,      K::kIn,    36},
    {TCSETSW,     K::kIn,    36},
    {TCSETSF,     K::kIn,    36},
    {TCGETA,      K::kOut,   18},
    {TCSETA,      K::kIn,    18},
    {TCSETAW,     K::kIn,    18},
    {TCSETAF,     K::kIn,    18},
    {TCSBRK,      K::kValue, 0},
    {TCXONC,      K::kValue, 0},
    {TCFLSH,      K::kValue, 0},
    {TIOCEXCL,    K::kValue, 0},
    {TIOCNXCL,    K::kValue, 0},
    {TIOCSCTTY,   K::kValue, 0},
    {TIOCGPGRP,   K::kOut,   4},
    {TIOCSPGRP,   K::kIn,    4},
    {TIOCOUTQ,    K::kOut,   4},
    {TIOCSTI,     K::kIn,    1},
    {TIOCGWINSZ,  K::kOut,   8},
    {TIOCSWINSZ,  K::kIn,    8},
    {TIOCMGET,    K::kOut,   4},
    {TIOCMBIS,    K::kIn,    4},
    {TIOCMBIC,    K::kIn,    4},
    {TIOCMSET,    K::kIn,    4},
    {FIONREAD,    K::kOut,   4},
    {TIOCCONS,    K::kValue, 0},
    {TIOCPKT,     K::kIn,    4},
    {FIONBIO,     K::kIn,    4},
    {TIOCNOTTY,   K::kValue, 0},
    {TIOCSETD,    K::kIn,    4},
    {TIOCGETD,    K::kOut,   4},
    {TCSBRKP,     K::kValue, 0},
    {TIOCSBRK,    K::kValue, 0},
    {TIOCCBRK,    K::kValue, 0},
    {TIOCGSID,    K::kOut,   4},
    {TIOCGPTPEER, K::kValue, 0},
    {FIONCLEX,    K::kValue, 0},
    {FIOCLEX,     K::kValue, 0},
    {FIOASYNC,    K::kIn,    4},
    {FIOQSIZE,    K::kOut,   8},
    {0x8910,      K::kInOut, 40},  // SIOCGIFNAME
    {0x8913,      K::kInOut, 40},  // SIOCGIFFLAGS
    {0x8915,      K::kInOut, 40},  // SIOCGIFADDR
    {0x8921,      K::kInOut, 40},  // SIOCGIFMTU
    {0x8927,      K::kInOut, 40},  // SIOCGIFHWADDR
    {0x8933,      K::kInOut, 40},  // SIOCGIFINDEX
};
// clang-format on

// fcntl(2) commands: struct flock is 32 bytes, struct f_owner_ex 8, a write-life hint 8.
// clang-format off
constexpr CommandArg kFcntls[] = {
    {F_DUPFD,            K::kValue, 0},
    {F_GETFD,            K::kValue, 0},
    {F_SETFD,            K::kValue, 0},
    {F_GETFL,            K::kValue, 0},
    {F_SETFL,            K::kValue, 0},
    {F_GETLK,            K::kInOut, 32},
    {F_SETLK,            K::kIn,    32},
    {F_SETLKW,           K::kIn,    32},
    {F_SETOWN,           K::kValue, 0},
    {F_GETOWN,           K::kValue, 0},
    {F_SETSIG,           K::kValue, 0},
    {F_GETSIG,           K::kValue, 0},
    {F_SETOWN_EX,        K::kIn,    8},
    {F_GETOWN_EX,        K::kOut,   8},
    {F_OFD_GETLK,        K::kInOut, 32},
    {F_OFD_SETLK,        K::kIn,    32},
    {F_OFD_SETLKW,       K::kIn,    32},
    {F_SETLEASE,         K::kValue, 0},
    {F_GETLEASE,         K::kValue, 0},
    {F_NOTIFY,           K::kValue, 0},
    {F_DUPFD_CLOEXEC,    K::kValue, 0},
    {F_SETPIPE_SZ,       K::kValue, 0},
    {F_GETPIPE_SZ,       K::kValue, 0},
    {F_ADD_SEALS,        K::kValue, 0},
    {F_GET_SEALS,        K::kValue, 0},
    {F_GET_RW_HINT,      K::kOut,   8},
    {F_SET_RW_HINT,      K::kIn,    8},
    {F_GET_FILE_RW_HINT, K::kOut,   8},
    {F_SET_FILE_RW_HINT, K::kIn,    8},
};
// clang-format on

const CommandArg* find_command(std::span<const CommandArg> table, uint64_t command) {
  for (const CommandArg& c : table) {
    if (c.command == command) return &c;
  }
  return nullptr;
}

// The _IOC encoding of a request (include/uapi/asm-generic/ioctl.h): direction in bits 31:30
// (1 = the kernel reads, 2 = it writes), argument size in bits 29:16.
std::optional<CommandArg> decode_ioc(uint64_t request) {
  const uint32_t direction = (request >> 30) & 3;
  const uint32_t size = (request >> 16) & 0x3fff;
  if (direction == 0 || request > 0xffffffff) return std::nullopt;
  const ArgKind kind = direction == 1 ? K::kIn : direction == 2 ? K::kOut : K::kInOut;
  return CommandArg{static_cast<uint32_t>(request), kind, size};
}

void log_once(const char* what, uint64_t command) {
  static std::set<std::pair<std::string, uint64_t>> logged;
  if (logged.emplace(what, command).second) {
    log::info("{} {:#x} is not supported", what, command);
  }
}

// Runs `number` with argument 3 translated as `arg` says.
int64_t call_with_arg(Process& process, const SyscallSpec& spec, SyscallArgs& a,
                      const CommandArg& arg) {
  uint64_t host[6] = {a.arg[0], a.arg[1], a.arg[2], 0, 0, 0};
  if (arg.kind != K::kValue && a.arg[2] != 0) {
    const GuestAccess access = arg.kind == K::kIn ? GuestAccess::kRead : GuestAccess::kWrite;
    uint8_t* buffer = process.memory().host_range(a.arg[2], arg.size, access);
    if (buffer == nullptr) return -EFAULT;
    host[2] = reinterpret_cast<uint64_t>(buffer);
  }
  return interrupted_result(spec, host_call(spec.number, host));
}

}  // namespace

int64_t sys_ioctl(Process& process, const SyscallSpec& spec, SyscallArgs& a) {
  if (const CommandArg* known = find_command(kIoctls, a.arg[1])) {
    return call_with_arg(process, spec, a, *known);
  }
  if (auto decoded = decode_ioc(a.arg[1])) return call_with_arg(process, spec, a, *decoded);
  // Without a size encoding the argument might be a pointer of any size: refuse.
  log_once("ioctl", a.arg[1]);
  return -ENOTTY;
}

int64_t sys_fcntl(Process& process, const SyscallSpec& spec, SyscallArgs& a) {
  if (const CommandArg* known = find_command(kFcntls, a.arg[1])) {
    return call_with_arg(process, spec, a, *known);
  }
  log_once("fcntl", a.arg[1]);
  return -EINVAL;
}

int64_t sys_rw_vector(Process& process, const SyscallSpec& spec, SyscallArgs& a) {
  // readv, preadv, preadv2 write into guest memory; writev and friends read it.
  const bool reads =
      spec.number == SYS_readv || spec.number == SYS_preadv || spec.number == SYS_preadv2;
  HostIov iov;
  if (const int64_t error = translate_iov(process, a.arg[1], a.arg[2],
                                          reads ? GuestAccess::kWrite : GuestAccess::kRead, iov)) {
    return error;
  }
  const uint64_t host[6] = {
      a.arg[0], reinterpret_cast<uint64_t>(iov.data()), a.arg[2], a.arg[3], a.arg[4], a.arg[5]};
  return interrupted_result(spec, host_call(spec.number, host));
}

int64_t sys_readlink(Process& process, const SyscallSpec& spec, SyscallArgs& a) {
  const size_t path_arg = spec.number == SYS_readlinkat ? 1 : 0;
  const uint64_t buffer = a.arg[path_arg + 1];
  const auto size = static_cast<int64_t>(a.arg[path_arg + 2]);
  std::string path;
  if (const int error = process.memory().read_string(a.arg[path_arg], path)) return error;
  if (host_path(process, path) != path) {  // the guest's own /proc/self/exe
    if (size <= 0) return -EINVAL;
    const std::string& target = process.executable_path();
    const size_t n = std::min<size_t>(target.size(), static_cast<size_t>(size));
    return process.memory().copy_out(buffer, target.data(), n) ? static_cast<int64_t>(n) : -EFAULT;
  }
  HostArgs host;
  if (const int64_t error = host.translate(process, spec, a)) return error;
  return host_call(spec.number, host.value);
}

int64_t sys_open(Process& process, const SyscallSpec& spec, SyscallArgs& a) {
  const size_t path_arg = spec.number == SYS_openat ? 1 : 0;
  std::string path;
  if (a.arg[path_arg] != 0 && process.memory().read_string(a.arg[path_arg], path) == 0) {
    if (auto contents = guest_proc_file(process, path)) {
      const uint64_t flags = a.arg[path_arg + 1];
      if ((flags & O_ACCMODE) != O_RDONLY) return -EACCES;
      // A memory file with the guest's view; it reads like the /proc file.
      UniqueFd fd(memfd_create("cella-proc", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0));
      if (!fd.valid()) return -errno;
      if (!pwrite_exact(fd.get(), contents->data(), contents->size(), 0)) return -EIO;
      return fd.release();
    }
  }
  return pass(process, spec, a);
}

int64_t sys_msg(Process& process, const SyscallSpec& spec, SyscallArgs& a) {
  // struct msghdr on x86-64 (sendmsg(2)): 56 bytes.
  struct GuestMsghdr {
    uint64_t name;
    uint32_t namelen, pad0;
    uint64_t iov, iovlen, control, controllen;
    int32_t flags, pad1;
  };
  static_assert(sizeof(GuestMsghdr) == 56);
  AddressSpace& memory = process.memory();
  const bool receives = spec.number == SYS_recvmsg;
  const GuestAccess access = receives ? GuestAccess::kWrite : GuestAccess::kRead;
  GuestMsghdr guest;
  if (!memory.copy_in(&guest, a.arg[1], sizeof guest)) return -EFAULT;
  HostIov iov;
  if (const int64_t error = translate_iov(process, guest.iov, guest.iovlen, access, iov)) {
    return error;
  }
  msghdr host{};
  if (guest.name != 0) {
    host.msg_name = memory.host_range(guest.name, guest.namelen, access);
    if (host.msg_name == nullptr) return -EFAULT;
  }
  host.msg_namelen = guest.namelen;
  host.msg_iov = iov.data();
  host.msg_iovlen = guest.iovlen;
  if (guest.control != 0) {
    host.msg_control = memory.host_range(guest.control, guest.controllen, access);
    if (host.msg_control == nullptr) return -EFAULT;
  }
  host.msg_controllen = guest.controllen;
  const uint64_t args[6] = {a.arg[0], reinterpret_cast<uint64_t>(&host), a.arg[2], 0, 0, 0};
  const int64_t result = interrupted_result(spec, host_call(spec.number, args));
  if (receives && result >= 0) {
    guest.namelen = host.msg_namelen;
    guest.controllen = host.msg_controllen;
    guest.flags = host.msg_flags;
    if (!memory.copy_out(a.arg[1], &guest, sizeof guest)) return -EFAULT;
  }
  return result;
}

}  // namespace cella::user
