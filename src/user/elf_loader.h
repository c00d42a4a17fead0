// Maps an executable (and its PT_INTERP interpreter) into the guest address space the way
// Linux's fs/binfmt_elf.c does: each PT_LOAD becomes a private file mapping of its pages with
// the segment's permissions, the part beyond p_filesz is zero (the rest of the last file page
// cleared, then anonymous pages), ET_DYN files are placed at a load bias.
#pragma once

#include <cstdint>

#include "base/result.h"
#include "user/address_space.h"
#include "user/executable.h"

namespace cella::user {

struct LoadedElf {
  uint64_t bias = 0;   // load address minus link address (0 for ET_EXEC)
  uint64_t entry = 0;  // e_entry + bias
  uint64_t phdr = 0;   // guest address of the program headers (AT_PHDR), 0 if not mapped
  uint64_t end = 0;    // page-aligned end of the highest segment
};

// Loads `exe`; a position-independent file goes at `preferred_base` when that range is free,
// else wherever mmap places it.
Result<LoadedElf> load_elf(AddressSpace& space, const Executable& exe, uint64_t preferred_base);

}  // namespace cella::user
