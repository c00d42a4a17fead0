#include "base/process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/file.h"

extern char** environ;

namespace cella {

namespace {

Result<UniqueFd> unlinked_temp_file() {
  char name[] = "/tmp/cella-process-XXXXXX";
  const int fd = ::mkstemp(name);
  if (fd < 0) return errno_error("temporary file");
  ::unlink(name);
  return UniqueFd(fd);
}

Result<std::string> read_from_start(int fd) {
  std::string text;
  char buffer[65536];
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(fd, buffer, sizeof(buffer), at);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("read output");
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    at += n;
  }
  return text;
}

}  // namespace

Result<ProcessResult> run_process(const std::vector<std::string>& argv) {
  if (argv.empty()) return make_error("run_process: no program");
  CELLA_TRY_ASSIGN(out, unlinked_temp_file());
  CELLA_TRY_ASSIGN(err, unlinked_temp_file());
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err.get(), STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return make_error("cannot run {}: {}", argv[0], std::strerror(spawned));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return errno_error("wait for " + argv[0]);
  }
  ProcessResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  CELLA_TRY_ASSIGN(out_text, read_from_start(out.get()));
  CELLA_TRY_ASSIGN(err_text, read_from_start(err.get()));
  result.out = std::move(out_text);
  result.err = std::move(err_text);
  return result;
}

}  // namespace cella
