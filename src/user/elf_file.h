// The ELF executable parser: the file header and program headers of an x86-64 Linux executable
// (System V gABI, chapter "Object Files": ELF Header and Program Header; System V x86-64 psABI
// chapter 4). It reads through an ElfReader, never trusts a field, and explains what is wrong
// with a file that cannot run (fuzz/elf_fuzz.cc exercises it).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"

namespace cella::user {

// Segment permission bits (gABI "Segment Permissions": PF_X, PF_W, PF_R).
inline constexpr uint32_t kPfX = 1, kPfW = 2, kPfR = 4;

struct ElfSegment {  // one PT_LOAD
  uint64_t vaddr = 0;
  uint64_t memsz = 0;
  uint64_t offset = 0;
  uint64_t filesz = 0;
  uint32_t flags = 0;  // PF_*
};

struct ElfImage {
  bool position_independent = false;  // ET_DYN: loaded at a bias
  uint64_t entry = 0;
  uint64_t phoff = 0;
  uint16_t phnum = 0;
  std::vector<ElfSegment> loads;       // ascending vaddr
  std::string interpreter;             // PT_INTERP, empty when static
  bool executable_stack = false;       // PT_GNU_STACK with PF_X (or no PT_GNU_STACK: false)
  std::optional<uint64_t> phdr_vaddr;  // PT_PHDR, or the PT_LOAD holding the headers
  uint64_t min_vaddr() const;          // page-aligned start of the first segment
  uint64_t max_vaddr() const;          // page-aligned end of the last segment
};

// Random access to a file's bytes.
class ElfReader {
 public:
  virtual ~ElfReader() = default;
  virtual uint64_t size() const = 0;
  // Reads exactly `out.size()` bytes at `offset`; false past the end or on an I/O error.
  virtual bool read(uint64_t offset, std::span<uint8_t> out) const = 0;
};

class MemoryElfReader final : public ElfReader {
 public:
  explicit MemoryElfReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  uint64_t size() const override { return bytes_.size(); }
  bool read(uint64_t offset, std::span<uint8_t> out) const override;

 private:
  std::span<const uint8_t> bytes_;
};

class FdElfReader final : public ElfReader {
 public:
  FdElfReader(int fd, uint64_t size) : fd_(fd), size_(size) {}
  uint64_t size() const override { return size_; }
  bool read(uint64_t offset, std::span<uint8_t> out) const override;

 private:
  int fd_;
  uint64_t size_;
};

// Parses and validates an executable; the error names the problem ("32-bit ELF ...",
// "ELF for AArch64 ...", "segment 2 extends past the end of the file", ...).
Result<ElfImage> parse_elf(const ElfReader& file);

// The name of an e_machine value (gABI "ELF Header", e_machine), for error messages.
std::string elf_machine_name(uint16_t machine);

}  // namespace cella::user
