#include "machine/memory_map.h"

#include <algorithm>

namespace cella::machine {

using namespace memory_map;

Result<MemoryLayout> plan_memory(uint64_t ram_bytes, uint64_t ecam_bytes) {
  if (ram_bytes % (1ull << 20) != 0) {
    return make_error("memory size {} bytes is not a whole number of MiB", ram_bytes);
  }
  if (ram_bytes < kMinimumRam || ram_bytes > kMaximumRam) {
    return make_error("memory size {} MiB is outside {} MiB to {} GiB", ram_bytes >> 20,
                      kMinimumRam >> 20, kMaximumRam >> 30);
  }
  MemoryLayout layout;
  layout.below_4g = std::min(ram_bytes, kPciHoleStart);
  layout.above_4g = ram_bytes - layout.below_4g;

  // One mapping for all RAM below the hole: the first MiB is RAM too (the reserved part holds
  // the ACPI tables), only the E820 map tells the guest which parts to leave alone.
  layout.ram.push_back({0, layout.below_4g});
  if (layout.above_4g != 0) layout.ram.push_back({kFourGiB, layout.above_4g});

  layout.e820.push_back({0, kLowRamEnd, E820Type::kRam});
  layout.e820.push_back({kLowRamEnd, kHighMemoryStart - kLowRamEnd, E820Type::kReserved});
  layout.e820.push_back({kHighMemoryStart, layout.below_4g - kHighMemoryStart, E820Type::kRam});
  layout.e820.push_back({kEcamBase, ecam_bytes, E820Type::kReserved});
  if (layout.above_4g != 0) layout.e820.push_back({kFourGiB, layout.above_4g, E820Type::kRam});
  return layout;
}

}  // namespace cella::machine
