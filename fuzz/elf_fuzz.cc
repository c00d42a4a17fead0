// Fuzzes the ELF executable parser (src/user/elf_file.h) with arbitrary files: it must
// return an image or an error, never crash, and an accepted image must satisfy what the
// loader relies on.
#include <cstdint>
#include <cstdlib>

#include "user/elf_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const cella::user::MemoryElfReader reader({data, size});
  auto image = cella::user::parse_elf(reader);
  if (!image) return 0;
  uint64_t previous_end = 0;
  for (const auto& segment : image->loads) {
    // Loader invariants: in order, inside the file, inside the user half.
    if (segment.vaddr < previous_end || segment.filesz > segment.memsz ||
        segment.offset + segment.filesz > size || segment.vaddr + segment.memsz > (1ull << 47)) {
      abort();
    }
    previous_end = segment.vaddr + segment.memsz;
  }
  if (image->max_vaddr() < image->min_vaddr()) abort();
  return 0;
}
