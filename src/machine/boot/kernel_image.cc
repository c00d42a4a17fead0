#include "machine/boot/kernel_image.h"

#include <elf.h>

#include <algorithm>

#include "base/bits.h"

namespace cella::machine {
namespace {

// Boot protocol "THE REAL-MODE KERNEL HEADER": offsets in the kernel file (and in boot_params).
constexpr size_t kSetupSects = 0x1f1;
constexpr size_t kBootFlag = 0x1fe;      // 0xAA55
constexpr size_t kHeaderLength = 0x201;  // low byte of the jump at 0x200: header end - 0x202
constexpr size_t kHeaderMagic = 0x202;   // "HdrS"
constexpr size_t kVersion = 0x206;
constexpr size_t kLoadflags = 0x211;
constexpr size_t kInitrdAddrMax = 0x22c;
constexpr size_t kKernelAlignment = 0x230;
constexpr size_t kRelocatableKernel = 0x234;
constexpr size_t kXloadflags = 0x236;
constexpr size_t kCmdlineSize = 0x238;
constexpr size_t kPayloadOffset = 0x248;  // 2.08+
constexpr size_t kPayloadLength = 0x24c;
constexpr size_t kPrefAddress = 0x258;
constexpr size_t kInitSize = 0x260;

constexpr uint8_t kLoadedHigh = 1 << 0;            // loadflags: protected-mode code at 0x100000
constexpr uint16_t kXlfKernel64 = 1 << 0;          // xloadflags: has the 64-bit entry at +0x200
constexpr uint16_t kXlfCanBeAbove4g = 1 << 1;      // xloadflags: initrd etc. may be above 4 GiB
constexpr uint16_t kMinimumVersion = 0x020c;       // 2.12: xloadflags, 64-bit entry
constexpr uint64_t kMaximumPhysical = 1ull << 46;  // refuse addresses no guest has

template <class T>
T field(std::span<const uint8_t> file, size_t offset) {
  return load_le<T>(file.data() + offset);
}

Result<KernelImage> parse_bzimage(std::span<const uint8_t> file) {
  KernelImage image;
  image.kind = KernelImage::Kind::kBzImage;
  const size_t header_end = 0x202 + file[kHeaderLength];
  if (header_end > file.size() || header_end < kInitSize + 4) {
    return make_error("not a usable bzImage: setup header ends at {:#x} (file is {} bytes)",
                      header_end, file.size());
  }
  image.protocol_version = field<uint16_t>(file, kVersion);
  if (image.protocol_version < kMinimumVersion) {
    return make_error("bzImage uses boot protocol {}.{:02}; 64-bit boot needs 2.12 or later",
                      image.protocol_version >> 8, image.protocol_version & 0xff);
  }
  const uint16_t xloadflags = field<uint16_t>(file, kXloadflags);
  if ((xloadflags & kXlfKernel64) == 0) {
    return make_error("bzImage has no 64-bit entry point (xloadflags {:#x}): not an x86-64 kernel",
                      xloadflags);
  }
  if ((file[kLoadflags] & kLoadedHigh) == 0) {
    return make_error("bzImage is a zImage (loadflags LOADED_HIGH clear); unsupported");
  }
  // "setup_sects: The size of the setup code in 512-byte sectors. If this field is 0, the
  // real value is 4." The protected-mode kernel follows the boot sector and setup code.
  const size_t setup_sectors = file[kSetupSects] == 0 ? 4 : file[kSetupSects];
  const size_t code_offset = (setup_sectors + 1) * 512;
  if (code_offset >= file.size()) {
    return make_error("bzImage truncated: {} setup sectors but the file is {} bytes", setup_sectors,
                      file.size());
  }
  image.setup_header.assign(file.begin() + kSetupSects, file.begin() + header_end);
  image.protected_mode_code.assign(file.begin() + code_offset, file.end());
  image.relocatable = file[kRelocatableKernel] != 0;
  image.preferred_address = field<uint64_t>(file, kPrefAddress);
  image.alignment = field<uint32_t>(file, kKernelAlignment);
  image.init_size = field<uint32_t>(file, kInitSize);
  image.initrd_max = field<uint32_t>(file, kInitrdAddrMax);
  image.cmdline_max = field<uint32_t>(file, kCmdlineSize);
  image.initrd_above_4g = (xloadflags & kXlfCanBeAbove4g) != 0;
  image.payload_offset = field<uint32_t>(file, kPayloadOffset);
  image.payload_length = field<uint32_t>(file, kPayloadLength);
  if (image.payload_offset > image.protected_mode_code.size() ||
      image.payload_length > image.protected_mode_code.size() - image.payload_offset) {
    return make_error("bzImage payload {:#x}+{:#x} lies outside its {:#x}-byte kernel",
                      image.payload_offset, image.payload_length, image.protected_mode_code.size());
  }
  if (image.alignment == 0 || !std::has_single_bit(image.alignment)) {
    return make_error("bzImage kernel_alignment {:#x} is not a power of two", image.alignment);
  }
  if (image.preferred_address >= kMaximumPhysical || image.preferred_address < 0x100000) {
    return make_error("bzImage pref_address {:#x} is outside guest memory",
                      image.preferred_address);
  }
  if (image.init_size < image.protected_mode_code.size()) {
    return make_error("bzImage init_size {:#x} is smaller than its kernel ({:#x} bytes)",
                      image.init_size, image.protected_mode_code.size());
  }
  return image;
}

Result<KernelImage> parse_elf(std::span<const uint8_t> file) {
  if (file.size() < sizeof(Elf64_Ehdr)) return make_error("ELF kernel truncated in its header");
  const auto header = load_le<Elf64_Ehdr>(file.data());
  if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_ident[EI_DATA] != ELFDATA2LSB ||
      header.e_machine != EM_X86_64) {
    return make_error("ELF kernel is not a 64-bit little-endian x86-64 file");
  }
  if (header.e_type != ET_EXEC) return make_error("ELF kernel is not an executable (ET_EXEC)");
  if (header.e_phentsize != sizeof(Elf64_Phdr) || header.e_phnum == 0 ||
      header.e_phoff > file.size() ||
      uint64_t{header.e_phnum} * sizeof(Elf64_Phdr) > file.size() - header.e_phoff) {
    return make_error("ELF kernel program headers are outside the file");
  }
  KernelImage image;
  image.kind = KernelImage::Kind::kElf;
  image.elf_entry = header.e_entry;
  bool entry_loaded = false;
  for (unsigned i = 0; i < header.e_phnum; ++i) {
    const auto ph = load_le<Elf64_Phdr>(file.data() + header.e_phoff + i * sizeof(Elf64_Phdr));
    if (ph.p_type != PT_LOAD) continue;
    if (ph.p_filesz > ph.p_memsz || ph.p_offset > file.size() ||
        ph.p_filesz > file.size() - ph.p_offset) {
      return make_error("ELF kernel segment {} is outside the file or larger than in memory", i);
    }
    if (ph.p_paddr >= kMaximumPhysical || ph.p_memsz > kMaximumPhysical - ph.p_paddr) {
      return make_error("ELF kernel segment {} at physical {:#x}+{:#x} is outside guest memory", i,
                        ph.p_paddr, ph.p_memsz);
    }
    LoadSegment segment;
    segment.physical = ph.p_paddr;
    segment.bytes.assign(file.begin() + static_cast<std::ptrdiff_t>(ph.p_offset),
                         file.begin() + static_cast<std::ptrdiff_t>(ph.p_offset + ph.p_filesz));
    segment.memory_size = ph.p_memsz;
    if (header.e_entry >= ph.p_paddr && header.e_entry - ph.p_paddr < ph.p_memsz) {
      entry_loaded = true;
    }
    image.elf_segments.push_back(std::move(segment));
  }
  if (image.elf_segments.empty()) return make_error("ELF kernel has no loadable segment");
  if (!entry_loaded) {
    return make_error("ELF kernel entry {:#x} is not in a loaded segment (physical addresses)",
                      header.e_entry);
  }
  uint64_t low = ~0ull, high = 0;
  for (const auto& s : image.elf_segments) {
    low = std::min(low, s.physical);
    high = std::max(high, s.physical + s.memory_size);
  }
  image.preferred_address = low;
  image.init_size = high - low;
  return image;
}

}  // namespace

Result<KernelImage> parse_kernel(std::span<const uint8_t> file) {
  if (file.size() >= 4 && std::equal(file.begin(), file.begin() + 4, ELFMAG)) {
    return parse_elf(file);
  }
  if (file.size() >= kHeaderMagic + 4 && field<uint16_t>(file, kBootFlag) == 0xaa55 &&
      std::equal(file.begin() + kHeaderMagic, file.begin() + kHeaderMagic + 4, "HdrS")) {
    return parse_bzimage(file);
  }
  return make_error("not a Linux kernel: neither a bzImage (no 'HdrS' boot header) nor an ELF");
}

}  // namespace cella::machine
