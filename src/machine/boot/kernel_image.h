// A Linux kernel file as the x86 boot protocol sees it: a bzImage (setup sectors, then the
// protected-mode kernel) or an uncompressed `vmlinux` ELF. Parsing checks everything a hostile
// file could get wrong and explains what it refuses. Documentation/arch/x86/boot.rst is "the
// boot protocol" below; its section names are cited at each field.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"

namespace cella::machine {

// One piece of guest-physical memory to fill: `bytes`, then zeros up to `memory_size` when that
// is larger.
struct LoadSegment {
  uint64_t physical = 0;
  std::vector<uint8_t> bytes;
  uint64_t memory_size = 0;
};

struct KernelImage {
  enum class Kind { kBzImage, kElf };
  Kind kind = Kind::kBzImage;

  // bzImage: the real-mode header, copied into boot_params (boot protocol "THE REAL-MODE KERNEL
  // HEADER": from 0x1f1 to 0x202 + the byte at 0x201).
  std::vector<uint8_t> setup_header;
  uint16_t protocol_version = 0;
  // The protected-mode kernel (bzImage) or the ELF's loadable segments (vmlinux).
  std::vector<uint8_t> protected_mode_code;
  std::vector<LoadSegment> elf_segments;

  bool relocatable = false;
  uint64_t preferred_address = 0x100000;  // pref_address (protocol 2.10+)
  uint64_t alignment = 0x200000;          // kernel_alignment
  uint64_t init_size = 0;                 // memory the kernel needs from its load address
  uint64_t initrd_max = 0x37ffffff;       // initrd_addr_max: highest byte of an initrd
  uint64_t cmdline_max = 255;             // cmdline_size, without the terminating NUL
  bool initrd_above_4g = false;           // xloadflags XLF_CAN_BE_LOADED_ABOVE_4G
  // bzImage: the compressed kernel inside protected_mode_code (payload_offset and
  // payload_length, protocol 2.08+), which the kernel's own decompressor unpacks.
  uint64_t payload_offset = 0;
  uint64_t payload_length = 0;

  // bzImage: 64-bit entry at load address + 0x200 (boot protocol "64-bit BOOT PROTOCOL").
  // ELF: the physical entry point e_entry (vmlinux's ENTRY is phys_startup_64).
  uint64_t elf_entry = 0;
};

// Parses a kernel file; the error names what is wrong ("not a Linux kernel: ...").
Result<KernelImage> parse_kernel(std::span<const uint8_t> file);

}  // namespace cella::machine
