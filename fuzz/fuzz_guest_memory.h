// Guest memory for the virtio fuzz targets: RAM in two host mappings that are contiguous to the
// guest, a hole, then more RAM; every DMA write a device reports must be RAM, or the target
// traps. Fresh per input.
#pragma once

#include <cstdint>
#include <vector>

#include "fuzz/fuzz_input.h"
#include "memory/guest_memory.h"

namespace cella::fuzzing {

struct FuzzRamLayout {
  uint64_t low;        // [0, low)
  uint64_t next;       // [low, low + next): a second host mapping
  uint64_t high_base;  // after the hole [low + next, high_base)
  uint64_t high;       // [high_base, high_base + high)
};

inline void set_up_guest_memory(memory::GuestMemory& memory, const FuzzRamLayout& layout) {
  if (!memory.add_ram(0, layout.low).ok() || !memory.add_ram(layout.low, layout.next).ok() ||
      !memory.add_ram(layout.high_base, layout.high).ok()) {
    __builtin_trap();
  }
  memory.set_dma_write_observer([&memory](uint64_t physical, uint64_t bytes) {
    if (memory.host_range(physical, bytes) == nullptr) __builtin_trap();
  });
}

// The "write bytes" step of the virtio targets: a 16-bit address, a length byte, the bytes;
// writes outside RAM are the guest's own business and are ignored.
inline void write_input_bytes(memory::GuestMemory& memory, FuzzInput& input) {
  const uint64_t address = input.u16();
  std::vector<uint8_t> bytes(input.u8());
  for (uint8_t& b : bytes) b = input.u8();
  (void)memory.write(address, bytes);
}

}  // namespace cella::fuzzing
