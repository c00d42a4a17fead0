// The process's initial stack as Linux builds it (fs/binfmt_elf.c create_elf_tables; System V
// x86-64 psABI 3.4.1, Figure 3.9): from the top, the program name (AT_EXECFN), the environment
// and argument strings, the platform string and 16 random bytes (AT_RANDOM), then, 16-byte
// aligned at the stack pointer: argc, argv[], NULL, envp[], NULL, the auxiliary vector.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "user/address_space.h"

namespace cella::user {

struct InitialStack {
  std::vector<std::string> argv;
  std::vector<std::string> envp;
  std::string execfn;
  std::string platform = "x86_64";
  std::array<uint8_t, 16> random{};
  // Auxiliary vector entries with plain values; the builder adds AT_RANDOM, AT_EXECFN,
  // AT_PLATFORM (pointers into the stack) and the AT_NULL terminator.
  std::vector<std::pair<uint64_t, uint64_t>> auxv;
};

// Writes `stack` below `top` into the (mapped, writable) range [bottom, top); returns the
// initial stack pointer. Fails when the strings exceed a quarter of the stack (Linux's limit
// for execve arguments, E2BIG).
Result<uint64_t> build_initial_stack(AddressSpace& space, uint64_t bottom, uint64_t top,
                                     const InitialStack& stack);

}  // namespace cella::user
