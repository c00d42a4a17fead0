// Synthetic kernels for boot-protocol tests: a bzImage with the setup header fields a test sets
// and a protected-mode kernel of patterned bytes (Documentation/arch/x86/boot.rst offsets), and
// a vmlinux-like ELF with one loadable segment.
#pragma once

#include <elf.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "base/bits.h"

namespace cella::machine {

struct BzImageFields {
  uint8_t setup_sects = 4;
  uint16_t version = 0x020f;
  uint16_t xloadflags = 0x3;  // XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G
  uint8_t loadflags = 0x1;
  uint8_t relocatable = 1;
  uint32_t alignment = 0x200000;
  uint64_t pref_address = 0x1000000;
  uint32_t init_size = 0x400000;
  uint32_t initrd_max = 0x7fffffff;
  uint32_t cmdline_size = 2047;
  size_t code_size = 0x3000;
  uint32_t payload_offset = 0, payload_length = 0;  // in the protected-mode code
};

inline std::vector<uint8_t> make_bzimage(const BzImageFields& f) {
  std::vector<uint8_t> file((f.setup_sects + 1) * 512 + f.code_size, 0);
  file[0x1f1] = f.setup_sects;
  store_le<uint16_t>(&file[0x1fe], 0xaa55);
  file[0x200] = 0xeb;
  file[0x201] = 0x6a;  // header ends at 0x26c
  std::memcpy(&file[0x202], "HdrS", 4);
  store_le<uint16_t>(&file[0x206], f.version);
  file[0x211] = f.loadflags;
  store_le<uint32_t>(&file[0x22c], f.initrd_max);
  store_le<uint32_t>(&file[0x230], f.alignment);
  file[0x234] = f.relocatable;
  store_le<uint16_t>(&file[0x236], f.xloadflags);
  store_le<uint32_t>(&file[0x238], f.cmdline_size);
  store_le<uint32_t>(&file[0x248], f.payload_offset);
  store_le<uint32_t>(&file[0x24c], f.payload_length);
  store_le<uint64_t>(&file[0x258], f.pref_address);
  store_le<uint32_t>(&file[0x260], f.init_size);
  for (size_t i = 0; i < f.code_size; ++i) file[(f.setup_sects + 1) * 512 + i] = uint8_t(i * 7);
  return file;
}

// An ELF64 executable with one PT_LOAD segment of `code_size` bytes at physical `paddr` (the
// last byte 0xcc) and the entry point `entry`.
inline std::vector<uint8_t> make_elf(uint64_t paddr, uint64_t entry, size_t code_size) {
  std::vector<uint8_t> file(sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + code_size, 0);
  Elf64_Ehdr header{};
  std::memcpy(header.e_ident, ELFMAG, SELFMAG);
  header.e_ident[EI_CLASS] = ELFCLASS64;
  header.e_ident[EI_DATA] = ELFDATA2LSB;
  header.e_type = ET_EXEC;
  header.e_machine = EM_X86_64;
  header.e_entry = entry;
  header.e_phoff = sizeof(Elf64_Ehdr);
  header.e_phentsize = sizeof(Elf64_Phdr);
  header.e_phnum = 1;
  Elf64_Phdr ph{};
  ph.p_type = PT_LOAD;
  ph.p_offset = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
  ph.p_vaddr = 0xffffffff81000000;
  ph.p_paddr = paddr;
  ph.p_filesz = code_size;
  ph.p_memsz = code_size + 0x1000;
  std::memcpy(file.data(), &header, sizeof(header));
  std::memcpy(file.data() + sizeof(header), &ph, sizeof(ph));
  file.back() = 0xcc;
  return file;
}

}  // namespace cella::machine
