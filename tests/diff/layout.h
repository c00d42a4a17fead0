// The guest address layout shared by the native and the software runs: the same linear
// addresses on both sides, so pointers, RIP-relative operands and pushed return addresses
// compare directly.
#pragma once

#include <cstdint>

namespace cella::diff {

// Below 4 GiB so that 32-bit addressing (67 prefix) and absolute disp32 can reach it.
inline constexpr uint64_t kRegionBase = 0x30000000;
inline constexpr uint64_t kCodeAddress = kRegionBase;            // the instruction under test
inline constexpr uint64_t kSledLength = 32;                      // NOPs after it: branch targets
inline constexpr uint64_t kDataAddress = kRegionBase + 0x10000;  // operands, stack
inline constexpr uint64_t kDataSize = 0x4000;                    // four pages
inline constexpr uint64_t kRegionSize =
    kDataAddress + kDataSize - kRegionBase;  // all the guest sees
// Native only: the harness's own code and state, out of the guest's reach.
inline constexpr uint64_t kHarnessAddress = kRegionBase + 0x100000;
inline constexpr uint64_t kHarnessSize = 0x10000;
// Reserved (inaccessible) around everything, so stray accesses fault on both sides.
inline constexpr uint64_t kGuardBelow = 0x10000000;
inline constexpr uint64_t kGuardAbove = 0x10000000;

}  // namespace cella::diff
