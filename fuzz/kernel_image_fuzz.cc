// Kernel files from a hostile user: parsing, unpacking a bzImage's payload on the host, and
// boot planning must give an error or a plan whose segments all lie in the guest's RAM, never
// crash.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "machine/boot/kernel_payload.h"
#include "machine/boot/linux_boot.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cella::machine;
  auto image = parse_kernel(std::span(data, size));
  if (!image.ok()) return 0;
  // The unpacked kernel is parsed as what it must be, an ELF.
  if (auto unpacked = unpack_bzimage_payload(*image); unpacked.ok() && unpacked->has_value()) {
    if (auto elf = parse_kernel(**unpacked); elf.ok()) image = std::move(elf);
  }
  const std::vector<E820Entry> map{{0, 0x9fc00, E820Type::kRam},
                                   {0x100000, (256 << 20) - 0x100000, E820Type::kRam}};
  const uint8_t initrd[64] = {};
  auto plan = plan_linux_boot(*image, {map, "console=ttyS0", initrd, 0});
  if (!plan.ok()) return 0;
  for (const LoadSegment& s : plan->segments) {
    const uint64_t size_in_memory = std::max<uint64_t>(s.bytes.size(), s.memory_size);
    const bool inside = std::any_of(map.begin(), map.end(), [&](const E820Entry& e) {
      return s.physical >= e.address && s.physical - e.address <= e.size &&
             size_in_memory <= e.size - (s.physical - e.address);
    });
    if (!inside) std::abort();
  }
  return 0;
}
