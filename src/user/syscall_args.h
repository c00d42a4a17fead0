// Translation of system-call arguments from guest to host: pointers become host pointers after
// a permission check (EFAULT for bad guest pointers, never a host fault), paths are copied and
// rewritten where the process VM must answer for the guest (/proc/self/exe), I/O vectors are
// translated element by element.
#pragma once

#include <sys/uio.h>

#include <array>
#include <cstdint>
#include <string>

#include "user/process.h"
#include "user/syscall_table.h"

namespace cella::user {

class HostArgs {
 public:
  // Translates `args` as `spec` describes them: 0, or -errno (EFAULT, ENAMETOOLONG).
  int64_t translate(Process& process, const SyscallSpec& spec, const SyscallArgs& args);
  uint64_t value[6] = {};

 private:
  std::string paths_[6];
};

// The largest I/O vector Linux accepts (UIO_MAXIOV).
inline constexpr size_t kMaxIov = 1024;
using HostIov = std::array<iovec, kMaxIov>;

// Translates `count` guest iovecs at `guest` into `out`: 0 or -EFAULT / -EINVAL. Buffers the
// call writes (`access` kWrite) must be writable by the guest.
int64_t translate_iov(Process& process, uint64_t guest, uint64_t count, GuestAccess access,
                      HostIov& out);

// The host path for a guest path: the guest's own executable for /proc/self/exe.
std::string host_path(Process& process, std::string path);

// A host result, with -EINTR caused by a signal turned into the call's restart code.
int64_t interrupted_result(const SyscallSpec& spec, int64_t result);

// Performs the call on the host through the signal-safe entry (safe_syscall.S).
int64_t host_call(uint64_t number, const uint64_t (&args)[6]);

}  // namespace cella::user
