// Running qemu-img and qemu-io from the VHD/VHDX interoperability tests.
#pragma once

#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/wait.h>

#include <array>
#include <string>

namespace cella::block::testing {

struct Command {
  int status = -1;     // exit code
  std::string output;  // stdout and stderr
};

inline Command run(const std::string& command) {
  Command result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    result.output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

inline std::string quote(const std::string& path) {
  return "'" + path + "'";
}

#define EXPECT_RUNS(command)                                                                  \
  do {                                                                                        \
    const ::cella::block::testing::Command cella_run = ::cella::block::testing::run(command); \
    EXPECT_EQ(cella_run.status, 0) << (command) << "\n" << cella_run.output;                  \
  } while (0)
#define ASSERT_RUNS(command)                                                                  \
  do {                                                                                        \
    const ::cella::block::testing::Command cella_run = ::cella::block::testing::run(command); \
    ASSERT_EQ(cella_run.status, 0) << (command) << "\n" << cella_run.output;                  \
  } while (0)

}  // namespace cella::block::testing
