#include "machine/boot/zero_page.h"

#include <algorithm>
#include <cstring>

#include "base/bits.h"
#include "machine/boot/linux_boot.h"

namespace cella::machine {

std::vector<uint8_t> build_zero_page(const KernelImage& kernel,
                                     const std::vector<E820Entry>& memory_map,
                                     const ZeroPageInputs& inputs) {
  namespace zp = zero_page;
  std::vector<uint8_t> page(zp::kSize, 0);
  auto put32 = [&](size_t offset, uint64_t value) {
    store_le<uint32_t>(&page[offset], static_cast<uint32_t>(value));
  };
  if (kernel.kind == KernelImage::Kind::kBzImage) {
    // boot.rst "LOADING THE REST OF THE KERNEL": the setup header is copied from the file.
    std::copy(kernel.setup_header.begin(), kernel.setup_header.end(),
              page.begin() + zp::kSetupHeader);
    put32(zp::kCode32Start, inputs.kernel_address);
  } else {
    // A vmlinux has no setup header: write the fields a bzImage would have.
    store_le<uint16_t>(&page[zp::kBootFlag], 0xaa55);
    std::memcpy(&page[zp::kHeaderMagic], "HdrS", 4);
    store_le<uint16_t>(&page[zp::kVersion], 0x020c);
    put32(zp::kKernelAlignment, 0x1000000);
    page[zp::kLoadflags] = 1;  // LOADED_HIGH
  }
  store_le<uint16_t>(&page[zp::kVidMode], 0xffff);  // "normal" (boot.rst vid_mode)
  page[zp::kTypeOfLoader] = 0xff;                   // undefined boot loader
  page[zp::kLoadflags] |= 0x80;                     // CAN_USE_HEAP
  store_le<uint16_t>(&page[zp::kHeapEndPtr], 0xfe00);
  put32(zp::kRamdiskImage, inputs.initrd_address);
  put32(zp::kRamdiskSize, inputs.initrd_size);
  put32(zp::kExtRamdiskImage, inputs.initrd_address >> 32);
  put32(zp::kExtRamdiskSize, inputs.initrd_size >> 32);
  put32(zp::kCmdLinePtr, inputs.cmdline_address);
  put32(zp::kExtCmdLinePtr, inputs.cmdline_address >> 32);
  store_le<uint64_t>(&page[zp::kAcpiRsdpAddr], inputs.rsdp_address);
  const size_t entries = std::min(memory_map.size(), zp::kE820MaxEntries);
  page[zp::kE820Entries] = static_cast<uint8_t>(entries);
  for (size_t i = 0; i < entries; ++i) {
    uint8_t* entry = &page[zp::kE820Table + i * zp::kE820EntrySize];
    store_le<uint64_t>(entry, memory_map[i].address);
    store_le<uint64_t>(entry + 8, memory_map[i].size);
    store_le<uint32_t>(entry + 16, static_cast<uint32_t>(memory_map[i].type));
  }
  return page;
}

}  // namespace cella::machine
