#include "user/elf_file.h"

#include <unistd.h>

#include <array>
#include <cstring>

#include "base/file.h"

namespace cella::user {

namespace {

// gABI "ELF Header": e_ident indexes and values.
constexpr uint8_t kMagic[4] = {0x7f, 'E', 'L', 'F'};
constexpr int kEiClass = 4, kEiData = 5, kEiVersion = 6;
constexpr uint8_t kElfClass32 = 1, kElfClass64 = 2;
constexpr uint8_t kElfData2Lsb = 1, kElfData2Msb = 2;
constexpr uint16_t kEtRel = 1, kEtExec = 2, kEtDyn = 3, kEtCore = 4;
constexpr uint16_t kEmX86_64 = 62;
constexpr size_t kEhdrSize = 64;  // Elf64_Ehdr
constexpr size_t kPhdrSize = 56;  // Elf64_Phdr
// gABI "Program Header": p_type values (PT_GNU_STACK is the GNU extension Linux honours).
constexpr uint32_t kPtLoad = 1, kPtInterp = 3, kPtPhdr = 6, kPtGnuStack = 0x6474e551;
// Linux fs/binfmt_elf.c: the program header table may not exceed 64 KiB, nor the
// interpreter path PATH_MAX.
constexpr size_t kMaxPhdrBytes = 65536;
constexpr uint64_t kMaxInterpreter = 4096;
// Segments must lie in the 47-bit user half of the canonical address space.
constexpr uint64_t kUserLimit = uint64_t{1} << 47;
constexpr uint64_t kPage = 4096;

template <class T>
T field(std::span<const uint8_t> bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;  // ELFDATA2LSB on a little-endian host
}

struct Phdr {
  uint32_t type, flags;
  uint64_t offset, vaddr, filesz, memsz;
};

Phdr phdr_at(std::span<const uint8_t> table, size_t index) {
  const auto entry = table.subspan(index * kPhdrSize, kPhdrSize);
  return Phdr{field<uint32_t>(entry, 0),  field<uint32_t>(entry, 4),  field<uint64_t>(entry, 8),
              field<uint64_t>(entry, 16), field<uint64_t>(entry, 32), field<uint64_t>(entry, 40)};
}

Result<void> check_identity(std::span<const uint8_t> ehdr) {
  if (std::memcmp(ehdr.data(), kMagic, sizeof kMagic) != 0) {
    return make_error("not an ELF file (no \\x7fELF magic)");
  }
  if (ehdr[kEiClass] == kElfClass32) {
    return make_error("32-bit ELF (ELFCLASS32): only 64-bit x86-64 programs can run");
  }
  if (ehdr[kEiClass] != kElfClass64) return make_error("invalid ELF class {}", ehdr[kEiClass]);
  if (ehdr[kEiData] == kElfData2Msb) {
    return make_error("big-endian ELF (ELFDATA2MSB): only x86-64 programs can run");
  }
  if (ehdr[kEiData] != kElfData2Lsb)
    return make_error("invalid ELF data encoding {}", ehdr[kEiData]);
  if (ehdr[kEiVersion] != 1) return make_error("unsupported ELF version {}", ehdr[kEiVersion]);
  const auto machine = field<uint16_t>(ehdr, 18);
  if (machine != kEmX86_64) {
    return make_error("ELF for {} (e_machine {}), not x86-64", elf_machine_name(machine), machine);
  }
  switch (field<uint16_t>(ehdr, 16)) {
    case kEtExec:
    case kEtDyn:
      return ok();
    case kEtRel:
      return make_error("a relocatable object file (ET_REL), not an executable");
    case kEtCore:
      return make_error("a core dump (ET_CORE), not an executable");
    default:
      return make_error("unknown ELF type {}", field<uint16_t>(ehdr, 16));
  }
}

Result<void> add_load(ElfImage& image, const Phdr& p, size_t index, uint64_t file_size) {
  if (p.filesz > p.memsz) {
    return make_error("segment {}: file size {:#x} exceeds memory size {:#x}", index, p.filesz,
                      p.memsz);
  }
  if (p.offset > file_size || p.filesz > file_size - p.offset) {
    return make_error("segment {} extends past the end of the file", index);
  }
  if (p.vaddr >= kUserLimit || p.memsz > kUserLimit - p.vaddr) {
    return make_error("segment {} lies outside the user address space ({:#x}+{:#x})", index,
                      p.vaddr, p.memsz);
  }
  // gABI "Program Loading": p_vaddr and p_offset are congruent modulo the page size.
  if (p.vaddr % kPage != p.offset % kPage) {
    return make_error("segment {}: address {:#x} and file offset {:#x} differ modulo the page size",
                      index, p.vaddr, p.offset);
  }
  // gABI "Program Header": loadable segments appear in ascending p_vaddr order.
  if (!image.loads.empty()) {
    const ElfSegment& last = image.loads.back();
    if (p.vaddr < last.vaddr + last.memsz) {
      return make_error("segment {} overlaps or precedes the previous loadable segment", index);
    }
  }
  if (p.memsz == 0) return ok();
  image.loads.push_back(ElfSegment{p.vaddr, p.memsz, p.offset, p.filesz, p.flags});
  return ok();
}

Result<void> read_interpreter(ElfImage& image, const Phdr& p, const ElfReader& file) {
  if (!image.interpreter.empty()) return make_error("more than one PT_INTERP");
  if (p.filesz < 2 || p.filesz > kMaxInterpreter || p.offset > file.size() ||
      p.filesz > file.size() - p.offset) {
    return make_error("invalid PT_INTERP (offset {:#x}, size {:#x})", p.offset, p.filesz);
  }
  std::string path(p.filesz, '\0');
  if (!file.read(p.offset, {reinterpret_cast<uint8_t*>(path.data()), path.size()})) {
    return make_error("cannot read PT_INTERP");
  }
  if (path.back() != '\0' || path.find('\0') != path.size() - 1) {
    return make_error("PT_INTERP is not a NUL-terminated path");
  }
  path.pop_back();
  image.interpreter = std::move(path);
  return ok();
}

}  // namespace

bool MemoryElfReader::read(uint64_t offset, std::span<uint8_t> out) const {
  if (offset > bytes_.size() || out.size() > bytes_.size() - offset) return false;
  std::memcpy(out.data(), bytes_.data() + offset, out.size());
  return true;
}

bool FdElfReader::read(uint64_t offset, std::span<uint8_t> out) const {
  if (offset > size_ || out.size() > size_ - offset) return false;
  return pread_exact(fd_, out.data(), out.size(), offset).ok();
}

uint64_t ElfImage::min_vaddr() const {
  return loads.empty() ? 0 : loads.front().vaddr & ~(kPage - 1);
}

uint64_t ElfImage::max_vaddr() const {
  if (loads.empty()) return 0;
  const uint64_t end = loads.back().vaddr + loads.back().memsz;
  return (end + kPage - 1) & ~(kPage - 1);
}

std::string elf_machine_name(uint16_t machine) {
  struct Name {
    uint16_t machine;
    const char* name;
  };
  static constexpr Name kNames[] = {
      {3, "i386"},    {8, "MIPS"},      {20, "PowerPC"},  {21, "PowerPC64"},
      {22, "S/390"},  {40, "ARM"},      {43, "SPARC V9"}, {50, "IA-64"},
      {62, "x86-64"}, {183, "AArch64"}, {243, "RISC-V"},  {258, "LoongArch"},
  };
  for (const Name& n : kNames) {
    if (n.machine == machine) return n.name;
  }
  return "an unknown machine";
}

Result<ElfImage> parse_elf(const ElfReader& file) {
  std::array<uint8_t, kEhdrSize> ehdr{};
  if (file.size() < 4 || !file.read(0, std::span(ehdr).first(4)) ||
      std::memcmp(ehdr.data(), kMagic, 4) != 0) {
    return make_error("not an ELF file (no \\x7fELF magic)");
  }
  if (file.size() < kEhdrSize || !file.read(0, ehdr)) {
    return make_error("truncated ELF header ({} bytes)", file.size());
  }
  CELLA_TRY(check_identity(ehdr));

  ElfImage image;
  image.position_independent = field<uint16_t>(ehdr, 16) == kEtDyn;
  image.entry = field<uint64_t>(ehdr, 24);
  image.phoff = field<uint64_t>(ehdr, 32);
  image.phnum = field<uint16_t>(ehdr, 56);
  const auto phentsize = field<uint16_t>(ehdr, 54);
  if (phentsize != kPhdrSize) {
    return make_error("program header entry size {}, expected {}", phentsize, kPhdrSize);
  }
  if (image.phnum == 0) return make_error("no program headers");
  const size_t table_size = size_t{image.phnum} * kPhdrSize;
  if (table_size > kMaxPhdrBytes) return make_error("too many program headers ({})", image.phnum);
  if (image.phoff > file.size() || table_size > file.size() - image.phoff) {
    return make_error("program headers extend past the end of the file");
  }
  std::vector<uint8_t> table(table_size);
  if (!file.read(image.phoff, table)) return make_error("cannot read the program headers");

  for (size_t i = 0; i < image.phnum; ++i) {
    const Phdr p = phdr_at(table, i);
    if (p.type == kPtLoad) {
      CELLA_TRY(add_load(image, p, i, file.size()));
    } else if (p.type == kPtInterp) {
      CELLA_TRY(read_interpreter(image, p, file));
    } else if (p.type == kPtPhdr) {
      image.phdr_vaddr = p.vaddr;
    } else if (p.type == kPtGnuStack) {
      image.executable_stack = (p.flags & kPfX) != 0;
    }
  }
  if (image.loads.empty()) return make_error("no loadable segments");
  if (!image.phdr_vaddr) {
    // The headers' address when a PT_LOAD maps the bytes they occupy (Linux does the same).
    for (const ElfSegment& s : image.loads) {
      if (image.phoff >= s.offset && image.phoff - s.offset < s.filesz) {
        image.phdr_vaddr = s.vaddr + (image.phoff - s.offset);
      }
    }
  }
  return image;
}

}  // namespace cella::user
