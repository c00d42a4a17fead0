// A synthetic bzImage for boot-protocol tests: the setup header fields a test sets, and a
// protected-mode kernel of patterned bytes (Documentation/arch/x86/boot.rst offsets).
#pragma once

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

}  // namespace cella::machine
