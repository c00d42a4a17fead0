#include "user/syscall_table.h"

#include <sys/syscall.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <initializer_list>

#include "user/process.h"
#include "user/syscall_args.h"
#include "user/syscall_handlers.h"

namespace cella::user {

namespace {

constexpr SyscallSpec make_spec(uint16_t number, const char* name, SyscallHandler handler,
                                Restart restart, std::initializer_list<ArgSpec> args) {
  SyscallSpec spec{number, name, handler, restart, static_cast<uint8_t>(args.size()), {}};
  size_t i = 0;
  for (const ArgSpec& a : args) spec.args[i++] = a;
  return spec;
}

#define V \
  ArgSpec {}
#define PATH       \
  ArgSpec {        \
    ArgKind::kPath \
  }
#define IN(n)          \
  ArgSpec {            \
    ArgKind::kIn, n, 1 \
  }
#define OUT(n)          \
  ArgSpec {             \
    ArgKind::kOut, n, 1 \
  }
#define IN_S(size)                 \
  ArgSpec {                        \
    ArgKind::kIn, kNoSizeArg, size \
  }
#define OUT_S(size)                 \
  ArgSpec {                         \
    ArgKind::kOut, kNoSizeArg, size \
  }
#define IO_S(size)                    \
  ArgSpec {                           \
    ArgKind::kInOut, kNoSizeArg, size \
  }
#define IN_A(n, size)     \
  ArgSpec {               \
    ArgKind::kIn, n, size \
  }
#define OUT_A(n, size)     \
  ArgSpec {                \
    ArgKind::kOut, n, size \
  }
#define IO_A(n, size)        \
  ArgSpec {                  \
    ArgKind::kInOut, n, size \
  }
#define OUT_L(n)           \
  ArgSpec {                \
    ArgKind::kOutLen, n, 1 \
  }

// Every number is the host's: the guest ABI is the host's ABI.
#define SYSCALL(number, name, handler, restart, ...) \
  static_assert(number == SYS_##name, "wrong number for " #name);
#include "user/syscalls.inc"
#undef SYSCALL

#define SYSCALL(number, name, handler, restart, ...) \
  make_spec(number, #name, &handler, Restart::restart, {__VA_ARGS__}),
constexpr SyscallSpec kSyscalls[] = {
#include "user/syscalls.inc"
};
#undef SYSCALL

constexpr size_t kMaxNumber = 512;

const std::array<const SyscallSpec*, kMaxNumber>& dispatch() {
  static const auto table = [] {
    std::array<const SyscallSpec*, kMaxNumber> t{};
    for (const SyscallSpec& spec : kSyscalls) t[spec.number] = &spec;
    return t;
  }();
  return table;
}

}  // namespace

int64_t pass(Process& process, const SyscallSpec& spec, SyscallArgs& args) {
  HostArgs host;
  if (const int64_t error = host.translate(process, spec, args)) return error;
  return interrupted_result(spec, host_call(args.number, host.value));
}

int64_t nosys(Process&, const SyscallSpec&, SyscallArgs&) {
  return -ENOSYS;
}

const SyscallSpec* find_syscall(uint64_t number) {
  return number < kMaxNumber ? dispatch()[number] : nullptr;
}

std::span<const SyscallSpec> all_syscalls() {
  return kSyscalls;
}

std::string syscall_name(uint64_t number) {
  const SyscallSpec* spec = find_syscall(number);
  return spec != nullptr ? spec->name : fmt::format("syscall_{}", number);
}

std::string format_syscall(Process& process, const SyscallSpec* spec, const SyscallArgs& args,
                           int64_t result) {
  std::string text = syscall_name(args.number) + "(";
  const size_t count = spec != nullptr ? spec->arg_count : 6;
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) text += ", ";
    std::string path;
    if (spec != nullptr && spec->args[i].kind == ArgKind::kPath && args.arg[i] != 0 &&
        process.memory().read_string(args.arg[i], path) == 0) {
      text += fmt::format("\"{}\"", path);
    } else if (args.arg[i] < 4096 || static_cast<int64_t>(args.arg[i]) >= -4096) {
      text += fmt::format("{}", static_cast<int64_t>(args.arg[i]));  // small values, -1, -100
    } else {
      text += fmt::format("{:#x}", args.arg[i]);
    }
  }
  if (result == kKeepRegisters) return text + ") = ?";
  if (result == -kErestartsys || result == -kErestartnohand || result == -kErestartnointr) {
    return text + ") = ? (interrupted)";
  }
  if (result < 0 && result >= -4095) {
    const int error = static_cast<int>(-result);
    const char* name = strerrorname_np(error);
    return fmt::format("{}) = -1 {} ({})", text, name != nullptr ? name : "?",
                       std::strerror(error));
  }
  if (result < 0x10000) return fmt::format("{}) = {}", text, result);
  return fmt::format("{}) = {:#x}", text, result);
}

}  // namespace cella::user
