// The initial process stack: argc, argv, envp and the auxiliary vector where the psABI puts
// them.
#include "user/initial_stack.h"

#include <sys/mman.h>

#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "user/linux_abi.h"

namespace cella::user {
namespace {

struct Stack {
  std::unique_ptr<AddressSpace> memory =
      std::move(AddressSpace::create(uint64_t{1} << 34, uint64_t{1} << 32).value());
  static constexpr uint64_t kBottom = 0x7000000, kTop = 0x7100000;
  Stack() {
    EXPECT_EQ(memory->map({.address = kBottom,
                           .length = kTop - kBottom,
                           .protection = prot::kRead | prot::kWrite,
                           .flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                           .fd = -1,
                           .offset = 0,
                           .name = {}}),
              static_cast<int64_t>(kBottom));
  }
  uint64_t word(uint64_t address) {
    uint64_t value = 0;
    EXPECT_TRUE(memory->copy_in(&value, address, 8));
    return value;
  }
  std::string string(uint64_t address) {
    std::string s;
    EXPECT_EQ(memory->read_string(address, s), 0);
    return s;
  }
};

TEST(InitialStack, FollowsThePsAbiLayout) {
  Stack s;
  InitialStack init;
  init.argv = {"prog", "-x", ""};
  init.envp = {"A=1", "PATH=/bin"};
  init.execfn = "/usr/bin/prog";
  for (int i = 0; i < 16; ++i) init.random[i] = static_cast<uint8_t>(i * 7);
  init.auxv = {{abi::kAtPagesz, 4096}, {abi::kAtEntry, 0x401000}};
  auto sp = build_initial_stack(*s.memory, Stack::kBottom, Stack::kTop, init);
  ASSERT_TRUE(sp) << sp.error().message();
  EXPECT_EQ(*sp % 16, 0u);
  uint64_t at = *sp;
  EXPECT_EQ(s.word(at), 3u);  // argc
  EXPECT_EQ(s.string(s.word(at + 8)), "prog");
  EXPECT_EQ(s.string(s.word(at + 16)), "-x");
  EXPECT_EQ(s.string(s.word(at + 24)), "");
  EXPECT_EQ(s.word(at + 32), 0u);
  EXPECT_EQ(s.string(s.word(at + 40)), "A=1");
  EXPECT_EQ(s.string(s.word(at + 48)), "PATH=/bin");
  EXPECT_EQ(s.word(at + 56), 0u);
  std::map<uint64_t, uint64_t> auxv;
  for (at += 64;; at += 16) {
    if (s.word(at) == abi::kAtNull) break;
    auxv[s.word(at)] = s.word(at + 8);
  }
  EXPECT_EQ(auxv[abi::kAtPagesz], 4096u);
  EXPECT_EQ(auxv[abi::kAtEntry], 0x401000u);
  EXPECT_EQ(s.string(auxv[abi::kAtExecfn]), "/usr/bin/prog");
  EXPECT_EQ(s.string(auxv[abi::kAtPlatform]), "x86_64");
  uint8_t random[16];
  ASSERT_TRUE(s.memory->copy_in(random, auxv[abi::kAtRandom], 16));
  EXPECT_EQ(std::memcmp(random, init.random.data(), 16), 0);
  // Everything lies inside the stack, below its top.
  EXPECT_LT(auxv[abi::kAtExecfn], Stack::kTop);
}

TEST(InitialStack, RefusesArgumentsLargerThanAQuarterOfTheStack) {
  Stack s;
  InitialStack init;
  init.argv = {std::string((Stack::kTop - Stack::kBottom) / 4, 'a')};
  EXPECT_FALSE(build_initial_stack(*s.memory, Stack::kBottom, Stack::kTop, init));
}

}  // namespace
}  // namespace cella::user
