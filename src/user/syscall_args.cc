#include "user/syscall_args.h"

#include <unistd.h>

#include <cerrno>

#include "user/host_signals.h"

namespace cella::user {

namespace {

bool is_buffer(ArgKind kind) {
  return kind == ArgKind::kIn || kind == ArgKind::kOut || kind == ArgKind::kInOut ||
         kind == ArgKind::kOutLen;
}

}  // namespace

std::string host_path(Process& process, std::string path) {
  // The guest's /proc/self/exe is its program, not the emulator (proc(5)).
  static const std::string kOwnExe = "/proc/" + std::to_string(getpid()) + "/exe";
  if (path == "/proc/self/exe" || path == "/proc/thread-self/exe" || path == kOwnExe) {
    return process.executable_path();
  }
  return path;
}

int64_t HostArgs::translate(Process& process, const SyscallSpec& spec, const SyscallArgs& args) {
  AddressSpace& memory = process.memory();
  uint64_t clamped[6];
  bool clamp[6] = {};
  for (size_t i = 0; i < spec.arg_count; ++i) {
    const ArgSpec& s = spec.args[i];
    const uint64_t guest = args.arg[i];
    value[i] = guest;
    if (s.kind == ArgKind::kPath) {
      if (guest == 0) continue;  // the host reports EFAULT, or accepts null (utimensat)
      std::string path;
      if (const int error = memory.read_string(guest, path)) return error;
      paths_[i] = host_path(process, std::move(path));
      value[i] = reinterpret_cast<uint64_t>(paths_[i].c_str());
      continue;
    }
    if (!is_buffer(s.kind) || guest == 0) continue;
    uint64_t size = s.unit;
    if (s.kind == ArgKind::kOutLen) {
      uint32_t length = 0;
      if (args.arg[s.size_arg] != 0 && !memory.copy_in(&length, args.arg[s.size_arg], 4)) {
        return -EFAULT;
      }
      size = length;
    } else if (s.size_arg != kNoSizeArg &&
               __builtin_mul_overflow(uint64_t{s.unit}, args.arg[s.size_arg], &size)) {
      return -EFAULT;
    }
    const GuestAccess access = s.kind == ArgKind::kIn ? GuestAccess::kRead : GuestAccess::kWrite;
    if (s.unit == 1 && s.size_arg != kNoSizeArg && s.kind != ArgKind::kOutLen) {
      // Linux copies up to the first inaccessible byte (a short read or write).
      const uint64_t usable = memory.accessible(guest, size, access);
      if (usable == 0 && size != 0) return -EFAULT;
      if (usable < size) {
        clamp[s.size_arg] = true;
        clamped[s.size_arg] = usable;
        size = usable;
      }
    }
    uint8_t* host = memory.host_range(guest, size, access);
    if (host == nullptr) return -EFAULT;
    value[i] = reinterpret_cast<uint64_t>(host);
  }
  for (size_t i = 0; i < 6; ++i) {
    if (clamp[i]) value[i] = clamped[i];
  }
  return 0;
}

int64_t translate_iov(Process& process, uint64_t guest, uint64_t count, GuestAccess access,
                      HostIov& out) {
  if (count > kMaxIov) return -EINVAL;
  AddressSpace& memory = process.memory();
  struct GuestIovec {
    uint64_t base, length;
  };
  for (uint64_t i = 0; i < count; ++i) {
    GuestIovec v;
    if (!memory.copy_in(&v, guest + i * sizeof v, sizeof v)) return -EFAULT;
    if (static_cast<int64_t>(v.length) < 0) return -EINVAL;
    uint8_t* host = memory.host_range(v.base, v.length, access);
    if (host == nullptr) return -EFAULT;
    out[i] = iovec{host, v.length};
  }
  return 0;
}

int64_t host_call(uint64_t number, const uint64_t (&a)[6]) {
  return safe_syscall(static_cast<int64_t>(number), a[0], a[1], a[2], a[3], a[4], a[5]);
}

int64_t interrupted_result(const SyscallSpec& spec, int64_t result) {
  if (result != -EINTR || !g_host_signal_pending) return result;
  return spec.restart == Restart::kSys ? -kErestartsys : -kErestartnohand;
}

}  // namespace cella::user
