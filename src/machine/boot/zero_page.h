// The zero page: struct boot_params (Documentation/arch/x86/zero-page.rst), which the boot
// loader fills and passes to the kernel in RSI. Offsets are the document's.
#pragma once

#include <cstdint>
#include <vector>

#include "machine/boot/kernel_image.h"

namespace cella::machine {

struct E820Entry;

namespace zero_page {
constexpr size_t kSize = 4096;
constexpr size_t kAcpiRsdpAddr = 0x070;     // u64, protocol 2.14
constexpr size_t kExtRamdiskImage = 0x0c0;  // u32: high half of ramdisk_image
constexpr size_t kExtRamdiskSize = 0x0c4;
constexpr size_t kExtCmdLinePtr = 0x0c8;
constexpr size_t kE820Entries = 0x1e8;  // u8
constexpr size_t kSetupHeader = 0x1f1;  // struct setup_header (boot.rst)
constexpr size_t kE820Table = 0x2d0;    // struct boot_e820_entry[128]: u64 addr, size; u32 type
constexpr size_t kE820EntrySize = 20;
constexpr size_t kE820MaxEntries = 128;
// struct setup_header fields written by the boot loader (boot.rst "DETAILS OF HEADER FIELDS").
constexpr size_t kBootFlag = 0x1fe;
constexpr size_t kHeaderMagic = 0x202;
constexpr size_t kVersion = 0x206;
constexpr size_t kVidMode = 0x1fa;
constexpr size_t kTypeOfLoader = 0x210;
constexpr size_t kLoadflags = 0x211;
constexpr size_t kCode32Start = 0x214;
constexpr size_t kRamdiskImage = 0x218;
constexpr size_t kRamdiskSize = 0x21c;
constexpr size_t kHeapEndPtr = 0x224;
constexpr size_t kCmdLinePtr = 0x228;
constexpr size_t kKernelAlignment = 0x230;
}  // namespace zero_page

struct ZeroPageInputs {
  uint64_t kernel_address = 0;
  uint64_t initrd_address = 0;
  uint64_t initrd_size = 0;
  uint64_t cmdline_address = 0;
  uint64_t rsdp_address = 0;
};

std::vector<uint8_t> build_zero_page(const KernelImage& kernel,
                                     const std::vector<E820Entry>& memory_map,
                                     const ZeroPageInputs& inputs);

}  // namespace cella::machine
