#include "user/executable.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cella::user {

namespace {

// Linux fs/exec.c BINPRM_BUF_SIZE and the interpreter nesting limit of fs/exec.c.
constexpr size_t kScriptLineMax = 256;
constexpr int kMaxInterpreterDepth = 4;

ExecFailure failure(int error_number, const std::string& path) {
  return ExecFailure{error_number, make_error("{}: {}", path, std::strerror(error_number))};
}

std::variant<Executable, ExecFailure> open_file_for_exec(const std::string& path) {
  Executable exe;
  exe.path = path;
  exe.fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!exe.fd.valid()) return failure(errno, path);
  struct stat st {};
  if (::fstat(exe.fd.get(), &st) != 0) return failure(errno, path);
  // execve(2): the file must be regular (a directory too is EACCES) and executable.
  if (!S_ISREG(st.st_mode) || ::faccessat(AT_FDCWD, path.c_str(), X_OK, AT_EACCESS) != 0) {
    return failure(EACCES, path);
  }
  exe.size = static_cast<uint64_t>(st.st_size);
  return exe;
}

// Splits "#!interpreter [argument]" (fs/binfmt_script.c: whitespace separates the interpreter
// from the rest, which is one argument with surrounding blanks removed).
bool parse_script_line(std::string line, std::string& interpreter, std::string& argument) {
  const size_t end = line.find('\n');
  if (end == std::string::npos && line.size() >= kScriptLineMax) return false;  // truncated
  if (end != std::string::npos) line.resize(end);
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  size_t i = 2;
  while (i < line.size() && blank(line[i])) ++i;
  size_t j = i;
  while (j < line.size() && !blank(line[j])) ++j;
  interpreter = line.substr(i, j - i);
  while (j < line.size() && blank(line[j])) ++j;
  size_t k = line.size();
  while (k > j && blank(line[k - 1])) --k;
  argument = line.substr(j, k - j);
  return !interpreter.empty();
}

std::variant<Executable, ExecFailure> parse(Executable exe) {
  FdElfReader reader(exe.fd.get(), exe.size);
  auto image = parse_elf(reader);
  if (!image) return ExecFailure{ENOEXEC, image.error().context(exe.path)};
  exe.image = std::move(*image);
  return exe;
}

}  // namespace

std::variant<Executable, ExecFailure> open_elf(const std::string& path) {
  auto opened = open_file_for_exec(path);
  if (auto* f = std::get_if<ExecFailure>(&opened)) return std::move(*f);
  return parse(std::move(std::get<Executable>(opened)));
}

std::variant<Executable, ExecFailure> open_executable(const std::string& path,
                                                      std::vector<std::string> argv) {
  const std::string execfn = path;
  std::string current = path;
  for (int depth = 0;; ++depth) {
    auto opened = open_file_for_exec(current);
    if (auto* f = std::get_if<ExecFailure>(&opened)) return std::move(*f);
    Executable exe = std::move(std::get<Executable>(opened));
    char head[kScriptLineMax] = {};
    const ssize_t n = ::pread(exe.fd.get(), head, sizeof head, 0);
    if (n >= 2 && head[0] == '#' && head[1] == '!') {
      std::string interpreter, argument;
      if (depth == kMaxInterpreterDepth) {
        return ExecFailure{ELOOP, make_error("{}: too many levels of #! interpreters", path)};
      }
      if (!parse_script_line(std::string(head, static_cast<size_t>(n)), interpreter, argument)) {
        return ExecFailure{ENOEXEC, make_error("{}: invalid #! line", current)};
      }
      // The new argv: interpreter [argument] script original-argv[1..].
      std::vector<std::string> rewritten{interpreter};
      if (!argument.empty()) rewritten.push_back(argument);
      rewritten.push_back(current);
      if (!argv.empty()) rewritten.insert(rewritten.end(), argv.begin() + 1, argv.end());
      argv = std::move(rewritten);
      current = interpreter;
      continue;
    }
    exe.argv = std::move(argv);
    exe.execfn = execfn;
    return parse(std::move(exe));
  }
}

}  // namespace cella::user
