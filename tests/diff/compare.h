// Field-by-field comparison of a native and a soft outcome, with readable differences.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/diff/machine_state.h"

namespace cella::diff {

// RFLAGS bits that never compare: IF (user mode cannot change it natively), RF, TF, VM,
// VIF, VIP (SDM Vol. 1 3.4.3).
inline constexpr uint64_t kIgnoredFlags = 0x200 | 0x10000 | 0x100 | 0x20000 | 0x80000 | 0x100000;

std::vector<std::string> compare(const Outcome& native, const Outcome& soft,
                                 uint64_t undefined_flags);

}  // namespace cella::diff
