#include "user/elf_loader.h"

#include <sys/mman.h>

#include <cstring>

#include "user/linux_abi.h"

namespace cella::user {

namespace {

uint32_t protection_of(const ElfSegment& s) {
  uint32_t p = 0;
  if (s.flags & kPfR) p |= prot::kRead;
  if (s.flags & kPfW) p |= prot::kWrite;
  if (s.flags & kPfX) p |= prot::kExec;
  return p;
}

Error map_error(const Executable& exe, size_t index, int64_t result) {
  return make_error("{}: cannot map segment {}: {}", exe.path, index,
                    std::strerror(static_cast<int>(-result)));
}

Result<void> map_segment(AddressSpace& space, const Executable& exe, size_t index, uint64_t bias) {
  const ElfSegment& s = exe.image.loads[index];
  const uint64_t start = page_down(s.vaddr + bias);
  const uint64_t file_end = s.vaddr + bias + s.filesz;
  const uint64_t mem_end = s.vaddr + bias + s.memsz;
  const uint32_t protection = protection_of(s);
  const bool zero_tail = s.memsz > s.filesz && (file_end % abi::kPageSize) != 0;
  if (s.filesz > 0) {
    MapRequest file{.address = start,
                    .length = page_up(file_end) - start,
                    // The tail of the last file page is cleared through a writable mapping.
                    .protection = zero_tail ? protection | prot::kWrite : protection,
                    .flags = MAP_PRIVATE | MAP_FIXED,
                    .fd = exe.fd.get(),
                    .offset = page_down(s.offset),
                    .name = {}};
    if (const int64_t r = space.map(file); r < 0) return map_error(exe, index, r);
    if (zero_tail) {
      std::memset(space.host(file_end), 0, page_up(file_end) - file_end);
      if (const int64_t r = space.protect(start, file.length, protection); r < 0) {
        return map_error(exe, index, r);
      }
    }
  }
  const uint64_t anonymous_start = s.filesz > 0 ? page_up(file_end) : start;
  if (page_up(mem_end) > anonymous_start) {
    MapRequest bss{.address = anonymous_start,
                   .length = page_up(mem_end) - anonymous_start,
                   .protection = protection,
                   .flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                   .fd = -1,
                   .offset = 0,
                   .name = {}};
    if (const int64_t r = space.map(bss); r < 0) return map_error(exe, index, r);
  }
  return ok();
}

}  // namespace

Result<LoadedElf> load_elf(AddressSpace& space, const Executable& exe, uint64_t preferred_base) {
  const ElfImage& image = exe.image;
  const uint64_t low = image.min_vaddr(), high = image.max_vaddr();
  const uint64_t span = high - low;
  LoadedElf loaded;
  if (image.position_independent) {
    // Reserve the whole span first so that the segments keep their relative layout.
    MapRequest reservation{.address = preferred_base,
                           .length = span,
                           .protection = 0,
                           .flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                           .fd = -1,
                           .offset = 0,
                           .name = {}};
    const int64_t base = space.map(reservation);
    if (base < 0) return map_error(exe, 0, base);
    loaded.bias = static_cast<uint64_t>(base) - low;
  } else if (!space.contains(low, span) || low < kMinMapAddress) {
    return make_error("{}: segments at {:#x}-{:#x} lie outside the guest address space", exe.path,
                      low, high);
  }
  for (size_t i = 0; i < image.loads.size(); ++i) {
    CELLA_TRY(map_segment(space, exe, i, loaded.bias));
    // Holes between segments are not part of the image (they stay unmapped, as in Linux).
    if (i + 1 < image.loads.size()) {
      const uint64_t hole = page_up(image.loads[i].vaddr + image.loads[i].memsz) + loaded.bias;
      const uint64_t next = page_down(image.loads[i + 1].vaddr) + loaded.bias;
      if (next > hole && image.position_independent) space.unmap(hole, next - hole);
    }
  }
  loaded.entry = image.entry + loaded.bias;
  loaded.phdr = image.phdr_vaddr ? *image.phdr_vaddr + loaded.bias : 0;
  loaded.end = high + loaded.bias;
  return loaded;
}

}  // namespace cella::user
