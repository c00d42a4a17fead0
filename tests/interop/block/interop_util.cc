#include "interop_util.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

extern char** environ;

namespace cella::interop {

namespace {

std::string read_all(int fd) {
  std::string text;
  ::lseek(fd, 0, SEEK_SET);
  char buffer[65536];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof(buffer))) > 0;) text.append(buffer, n);
  return text;
}

int temp_fd() {
  char name[] = "/tmp/cella-interop-out-XXXXXX";
  const int fd = ::mkstemp(name);
  ::unlink(name);
  return fd;
}

}  // namespace

RunResult run(const std::vector<std::string>& argv) {
  // Output goes to unlinked temporary files: no pipe can fill up and block the child.
  const int out = temp_fd();
  const int err = temp_fd();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  RunResult result;
  if (::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ) != 0) {
    result.err = "cannot start " + argv[0];
  } else {
    int status = 0;
    ::waitpid(pid, &status, 0);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = read_all(out);
    result.err = read_all(err);
  }
  posix_spawn_file_actions_destroy(&actions);
  ::close(out);
  ::close(err);
  return result;
}

RunResult cella(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {CELLA_BINARY, "img"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

RunResult qemu_img(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"qemu-img"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

RunResult qemu_io(const std::string& format, const std::string& file,
                  const std::vector<std::string>& commands) {
  std::vector<std::string> argv = {"qemu-io", "-f", format};
  for (const std::string& command : commands) {
    argv.push_back("-c");
    argv.push_back(command);
  }
  argv.push_back(file);
  RunResult result = run(argv);
  EXPECT_EQ(result.exit_code, 0) << describe(result);
  return result;
}

nlohmann::json parse_json(const RunResult& result) {
  auto json = nlohmann::json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(json.is_discarded()) << "not JSON: " << describe(result);
  return json;
}

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
}

uint64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

uint64_t disk_usage(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_blocks) * 512 : 0;
}

std::string describe(const RunResult& result) {
  return "exit " + std::to_string(result.exit_code) + "\nstdout:\n" + result.out + "stderr:\n" +
         result.err;
}

}  // namespace cella::interop
