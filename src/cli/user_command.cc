#include "cli/user_command.h"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <optional>

#include "user/process.h"

extern char** environ;

namespace cella::cli {

namespace {

constexpr const char* kUsage =
    "Usage: cella user [OPTIONS] [--] PROGRAM [ARGS...]\n"
    "Runs a Linux x86-64 program (static, static-PIE or dynamically linked) on Cella's\n"
    "software CPU, passing its system calls to the host.\n"
    "\n"
    "Options:\n"
    "  --trace N       log the first N executed instructions to stderr\n"
    "  --strace        log every system call and its result to stderr\n"
    "  --stats         print the instructions executed and their rate at exit\n"
    "  --argv0 NAME    start the program with argv[0] = NAME (default: PROGRAM)\n"
    "  -h, --help      show this help\n"
    "\n"
    "Exit status: the program's; 127 if PROGRAM is missing, 126 if it cannot run.\n";

constexpr int kUsageError = 1;
constexpr int kCannotExecute = 126;  // the shells' conventions
constexpr int kNotFound = 127;

std::optional<uint64_t> parse_count(const std::string& text) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

int usage_error(const std::string& message) {
  fmt::print(stderr, "cella user: {}\nTry 'cella user --help' for more information.\n", message);
  return kUsageError;
}

}  // namespace

int run_user(const std::vector<std::string>& args) {
  user::ProcessOptions options;
  std::optional<std::string> argv0;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg.empty() || arg[0] != '-') break;
    if (arg == "-h" || arg == "--help") {
      fmt::print("{}", kUsage);
      return 0;
    }
    if (arg == "--strace") {
      options.trace_syscalls = true;
      continue;
    }
    if (arg == "--stats") {
      options.report_stats = true;
      continue;
    }
    if (arg == "--trace" || arg == "--argv0") {
      if (i + 1 >= args.size()) return usage_error(fmt::format("{} needs a value", arg));
      const std::string& value = args[++i];
      if (arg == "--argv0") {
        argv0 = value;
        continue;
      }
      auto count = parse_count(value);
      if (!count) return usage_error(fmt::format("--trace needs a count, not '{}'", value));
      options.trace_instructions = *count;
      continue;
    }
    return usage_error(fmt::format("unknown option '{}'", arg));
  }
  if (i >= args.size()) return usage_error("no PROGRAM given");
  options.program = args[i];
  options.argv.push_back(argv0.value_or(args[i]));
  options.argv.insert(options.argv.end(), args.begin() + static_cast<ptrdiff_t>(i) + 1, args.end());
  for (char** e = environ; *e != nullptr; ++e) options.envp.emplace_back(*e);

  int error_number = 0;
  auto process = user::Process::create(options, &error_number);
  if (!process) {
    fmt::print(stderr, "cella user: {}\n", process.error().message());
    return error_number == ENOENT ? kNotFound : kCannotExecute;
  }
  return (*process)->run();
}

void register_user_command(CLI::App& app) {
  CLI::App* user = app.add_subcommand("user", "run a Linux x86-64 program on the software CPU");
  // Everything after `user` belongs to run_user (and the program's own options to it).
  user->prefix_command();
  user->set_help_flag();
  user->callback([user] {
    const int exit_code = run_user(user->remaining());
    if (exit_code != 0) throw CLI::RuntimeError(exit_code);
  });
}

}  // namespace cella::cli
