// The ELF parser: valid executables parse, and every way a file can be unusable is named.
#include "user/elf_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace cella::user {
namespace {

// Builds a little-endian ELF64 file: header, program headers at 64, contents after.
class ElfBuilder {
 public:
  ElfBuilder() : bytes_(4096, 0) {
    const uint8_t ident[] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
    std::memcpy(bytes_.data(), ident, sizeof ident);
    put<uint16_t>(16, 2);   // ET_EXEC
    put<uint16_t>(18, 62);  // EM_X86_64
    put<uint32_t>(20, 1);
    put<uint64_t>(24, 0x401000);  // e_entry
    put<uint64_t>(32, 64);        // e_phoff
    put<uint16_t>(52, 64);
    put<uint16_t>(54, 56);
  }
  template <class T>
  ElfBuilder& put(size_t offset, T value) {
    std::memcpy(bytes_.data() + offset, &value, sizeof value);
    return *this;
  }
  ElfBuilder& phdr(uint32_t type, uint32_t flags, uint64_t offset, uint64_t vaddr, uint64_t filesz,
                   uint64_t memsz) {
    const size_t at = 64 + 56 * count_++;
    put<uint32_t>(at, type).put<uint32_t>(at + 4, flags).put<uint64_t>(at + 8, offset);
    put<uint64_t>(at + 16, vaddr).put<uint64_t>(at + 24, vaddr).put<uint64_t>(at + 32, filesz);
    put<uint64_t>(at + 40, memsz).put<uint64_t>(at + 48, 4096);
    return put<uint16_t>(56, static_cast<uint16_t>(count_));
  }
  Result<ElfImage> parse() const { return parse_elf(MemoryElfReader(bytes_)); }
  std::string error() const {
    auto r = parse();
    return r ? "(parsed)" : r.error().message();
  }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
  size_t count_ = 0;
};

constexpr uint32_t kLoad = 1, kInterp = 3, kGnuStack = 0x6474e551;

ElfBuilder valid() {
  ElfBuilder b;
  b.phdr(kLoad, kPfR | kPfX, 0, 0x400000, 4096, 4096);
  b.phdr(kGnuStack, kPfR | kPfW, 0, 0, 0, 0);
  return b;
}

TEST(ElfFile, ParsesAStaticExecutable) {
  auto image = valid().parse();
  ASSERT_TRUE(image) << image.error().message();
  EXPECT_FALSE(image->position_independent);
  EXPECT_EQ(image->entry, 0x401000u);
  ASSERT_EQ(image->loads.size(), 1u);
  EXPECT_EQ(image->loads[0].flags, kPfR | kPfX);
  EXPECT_TRUE(image->interpreter.empty());
  EXPECT_FALSE(image->executable_stack);
  EXPECT_EQ(image->phdr_vaddr, 0x400040u);  // the PT_LOAD that maps the headers
  EXPECT_EQ(image->min_vaddr(), 0x400000u);
  EXPECT_EQ(image->max_vaddr(), 0x401000u);
}

TEST(ElfFile, ReadsTheInterpreterOfAPositionIndependentExecutable) {
  ElfBuilder b;
  b.put<uint16_t>(16, 3);  // ET_DYN
  const char path[] = "/lib64/ld-linux-x86-64.so.2";
  std::memcpy(b.bytes().data() + 1024, path, sizeof path);
  b.phdr(kInterp, kPfR, 1024, 1024, sizeof path, sizeof path);
  b.phdr(kLoad, kPfR | kPfX, 0, 0, 4096, 4096);
  auto image = b.parse();
  ASSERT_TRUE(image) << image.error().message();
  EXPECT_TRUE(image->position_independent);
  EXPECT_EQ(image->interpreter, path);
}

TEST(ElfFile, NamesWhatIsWrong) {
  EXPECT_EQ(ElfBuilder().put<uint8_t>(1, 'X').error(), "not an ELF file (no \\x7fELF magic)");
  EXPECT_NE(valid().put<uint8_t>(4, 1).error().find("32-bit"), std::string::npos);
  EXPECT_NE(valid().put<uint8_t>(5, 2).error().find("big-endian"), std::string::npos);
  EXPECT_EQ(valid().put<uint16_t>(18, 183).error(), "ELF for AArch64 (e_machine 183), not x86-64");
  EXPECT_NE(valid().put<uint16_t>(16, 1).error().find("relocatable"), std::string::npos);
  EXPECT_NE(valid().put<uint16_t>(16, 4).error().find("core dump"), std::string::npos);
  EXPECT_NE(valid().put<uint16_t>(54, 32).error().find("entry size"), std::string::npos);
  EXPECT_EQ(ElfBuilder().error(), "no program headers");
  EXPECT_NE(valid().put<uint64_t>(32, 4090).error().find("past the end"), std::string::npos);
  EXPECT_EQ(ElfBuilder().phdr(kGnuStack, 0, 0, 0, 0, 0).error(), "no loadable segments");
}

TEST(ElfFile, RejectsBadSegments) {
  EXPECT_NE(ElfBuilder().phdr(kLoad, kPfR, 0, 0x400000, 8192, 4096).error().find("exceeds"),
            std::string::npos);
  EXPECT_NE(ElfBuilder().phdr(kLoad, kPfR, 0, 0x400000, 8192, 8192).error().find("past the end"),
            std::string::npos);
  EXPECT_NE(ElfBuilder().phdr(kLoad, kPfR, 0, 0x400010, 100, 100).error().find("modulo"),
            std::string::npos);
  EXPECT_NE(ElfBuilder().phdr(kLoad, kPfR, 0, uint64_t{1} << 47, 100, 100).error().find("outside"),
            std::string::npos);
  ElfBuilder unordered;
  unordered.phdr(kLoad, kPfR, 0, 0x600000, 100, 100).phdr(kLoad, kPfR, 0, 0x400000, 100, 100);
  EXPECT_NE(unordered.error().find("overlaps or precedes"), std::string::npos);
}

TEST(ElfFile, RejectsABadInterpreter) {
  ElfBuilder b;
  std::memcpy(b.bytes().data() + 1024, "/lib/ld.so", 10);  // no terminating NUL
  b.phdr(kInterp, kPfR, 1024, 0, 10, 10).phdr(kLoad, kPfR, 0, 0x400000, 100, 100);
  EXPECT_EQ(b.error(), "PT_INTERP is not a NUL-terminated path");
  ElfBuilder outside;
  outside.phdr(kInterp, kPfR, 4000, 0, 200, 200).phdr(kLoad, kPfR, 0, 0x400000, 100, 100);
  EXPECT_NE(outside.error().find("invalid PT_INTERP"), std::string::npos);
}

TEST(ElfFile, HonoursAnExecutableStackRequest) {
  ElfBuilder b;
  b.phdr(kLoad, kPfR, 0, 0x400000, 100, 100).phdr(kGnuStack, kPfR | kPfW | kPfX, 0, 0, 0, 0);
  auto image = b.parse();
  ASSERT_TRUE(image);
  EXPECT_TRUE(image->executable_stack);
}

TEST(ElfFile, TruncatedFilesAreErrors) {
  std::vector<uint8_t> bytes = valid().bytes();
  for (size_t size : {size_t{0}, size_t{3}, size_t{4}, size_t{63}, size_t{100}}) {
    auto image = parse_elf(MemoryElfReader(std::span(bytes).first(size)));
    EXPECT_FALSE(image) << size;
  }
}

}  // namespace
}  // namespace cella::user
