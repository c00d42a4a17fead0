// The Linux x86-64 system-call table of the process VM: one line per system call
// (syscall_table.cc) giving its number, its name, its handler, what an interruption by a
// signal means for it, and the kinds of its arguments. Most calls are passed through to the
// host by one generic handler (`pass`) that validates and translates their pointer arguments
// from the argument kinds; the others have handlers of their own (syscall_handlers.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace cella::user {

class Process;

// How an argument is seen by the host.
enum class ArgKind : uint8_t {
  kValue,   // a number, passed unchanged
  kPath,    // a NUL-terminated string (a path)
  kIn,      // a buffer the call reads
  kOut,     // a buffer the call writes
  kInOut,   // a buffer the call reads and writes
  kOutLen,  // a buffer the call writes, sized by the socklen_t at another argument
};

inline constexpr uint8_t kNoSizeArg = 0xff;

// A buffer is `unit` bytes times the value of argument `size_arg` (or `unit` bytes when
// size_arg is kNoSizeArg). Byte buffers sized by an argument (unit 1) are clamped to the part
// the guest can access, as Linux's copy to/from user stops at the first bad page; any other
// buffer must be wholly accessible, else EFAULT. A null pointer goes to the host as null.
struct ArgSpec {
  ArgKind kind = ArgKind::kValue;
  uint8_t size_arg = kNoSizeArg;
  uint32_t unit = 0;
};

// What the call returns when a signal interrupts it (Linux's internal restart codes).
enum class Restart : uint8_t {
  kSys,     // ERESTARTSYS: restarted unless a handler without SA_RESTART runs
  kNoHand,  // ERESTARTNOHAND: EINTR if a handler runs, else restarted
};

struct SyscallArgs {
  uint64_t number = 0;
  uint64_t arg[6] = {};
};

struct SyscallSpec;
using SyscallHandler = int64_t (*)(Process&, const SyscallSpec&, SyscallArgs&);

struct SyscallSpec {
  uint16_t number;
  const char* name;
  SyscallHandler handler;
  Restart restart;
  uint8_t arg_count;
  ArgSpec args[6];
};

// The entry for `number`, or null for a system call the process VM does not know.
const SyscallSpec* find_syscall(uint64_t number);
std::span<const SyscallSpec> all_syscalls();
// "read", "openat", ... or "syscall_<n>".
std::string syscall_name(uint64_t number);

// Renders a call for --strace: name(arguments) = result.
std::string format_syscall(Process& process, const SyscallSpec* spec, const SyscallArgs& args,
                           int64_t result);

}  // namespace cella::user
