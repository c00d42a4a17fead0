// The system-call table: consistent entries, and names generated from it. (Every number is
// checked against the host's <sys/syscall.h> at compile time in syscall_table.cc.)
#include "user/syscall_table.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace cella::user {
namespace {

TEST(SyscallTable, EntriesAreConsistent) {
  std::set<uint64_t> numbers;
  std::set<std::string> names;
  for (const SyscallSpec& spec : all_syscalls()) {
    EXPECT_TRUE(numbers.insert(spec.number).second) << spec.name;
    EXPECT_TRUE(names.insert(spec.name).second) << spec.name;
    EXPECT_NE(spec.handler, nullptr) << spec.name;
    EXPECT_LE(spec.arg_count, 6) << spec.name;
    for (size_t i = 0; i < spec.arg_count; ++i) {
      const ArgSpec& arg = spec.args[i];
      if (arg.size_arg != kNoSizeArg) {
        EXPECT_LT(arg.size_arg, spec.arg_count) << spec.name << " argument " << i;
        EXPECT_NE(arg.size_arg, i) << spec.name;
      }
      if (arg.kind == ArgKind::kIn || arg.kind == ArgKind::kOut || arg.kind == ArgKind::kInOut) {
        EXPECT_GT(arg.unit, 0u) << spec.name << " argument " << i;
      }
    }
    EXPECT_EQ(find_syscall(spec.number), &spec);
  }
  EXPECT_GT(numbers.size(), 150u);
}

TEST(SyscallTable, NamesComeFromTheTable) {
  EXPECT_EQ(syscall_name(0), "read");
  EXPECT_EQ(syscall_name(59), "execve");
  EXPECT_EQ(syscall_name(231), "exit_group");
  EXPECT_EQ(syscall_name(1000), "syscall_1000");
  EXPECT_EQ(find_syscall(1000), nullptr);
  EXPECT_EQ(find_syscall(~uint64_t{0}), nullptr);
}

}  // namespace
}  // namespace cella::user
