// The decoder against a reference disassembler (Zydis): the same length for every generated
// instance of every form, and for every instruction of a real program's code.
#include <Zydis/Zydis.h>
#include <elf.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>
#include <random>

#include "engines/soft/decoder/decoder.h"
#include "tests/diff/form_instance.h"

namespace cella::soft {
namespace {

class Reference {
 public:
  Reference() {
    ZydisDecoderInit(&decoder_, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    // Without MPX (which Cella does not advertise, nor do current CPUs), 0F 1A/1B are hint NOPs.
    ZydisDecoderEnableMode(&decoder_, ZYDIS_DECODER_MODE_MPX, ZYAN_FALSE);
  }
  // Length of the instruction at bytes, or 0 if Zydis finds none.
  size_t length(const uint8_t* bytes, size_t size, std::string* mnemonic = nullptr) const {
    ZydisDecodedInstruction instruction;
    ZydisDecoderContext context;
    if (!ZYAN_SUCCESS(
            ZydisDecoderDecodeInstruction(&decoder_, &context, bytes, size, &instruction))) {
      return 0;
    }
    if (mnemonic != nullptr) *mnemonic = ZydisMnemonicGetString(instruction.mnemonic);
    return instruction.length;
  }

 private:
  ZydisDecoder decoder_;
};

TEST(DecoderReference, EveryFormInstanceHasTheReferenceLength) {
  const Reference reference;
  const Decoder& decoder = Decoder::instance();
  std::mt19937_64 rng(7);
  size_t checked = 0;
  for (uint16_t form = 0; form < decoder.form_count(); ++form) {
    for (int i = 0; i < 32; ++i) {
      const auto instance = diff::make_instance(form, rng);
      ASSERT_TRUE(instance.has_value())
          << decoder.form(form).mnemonic << " " << decoder.form(form).opcode;
      std::string mnemonic;
      const size_t length =
          reference.length(instance->bytes.data(), instance->bytes.size(), &mnemonic);
      EXPECT_EQ(length, instance->bytes.size())
          << decoder.form(form).mnemonic << " [" << diff::hex(instance->bytes)
          << "] zydis: " << mnemonic;
      ++checked;
    }
  }
  std::printf("decoder: %zu instances of %zu forms agree with Zydis on length\n", checked,
              decoder.form_count());
}

// The executable sections of an ELF file.
std::vector<std::vector<uint8_t>> code_sections(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::vector<uint8_t>> sections;
  if (file.size() < sizeof(Elf64_Ehdr)) return sections;
  const auto* header = reinterpret_cast<const Elf64_Ehdr*>(file.data());
  for (int i = 0; i < header->e_shnum; ++i) {
    const size_t at = header->e_shoff + static_cast<size_t>(i) * header->e_shentsize;
    if (at + sizeof(Elf64_Shdr) > file.size()) break;
    const auto* section = reinterpret_cast<const Elf64_Shdr*>(file.data() + at);
    if ((section->sh_flags & SHF_EXECINSTR) && section->sh_type == SHT_PROGBITS &&
        section->sh_offset + section->sh_size <= file.size()) {
      sections.emplace_back(
          file.begin() + static_cast<long>(section->sh_offset),
          file.begin() + static_cast<long>(section->sh_offset + section->sh_size));
    }
  }
  return sections;
}

TEST(DecoderReference, RealProgramCodeHasTheReferenceLengths) {
  const auto sections = code_sections("/bin/busybox");  // Debian's busybox-static
  ASSERT_FALSE(sections.empty()) << "/bin/busybox (package busybox-static) is needed";
  const Reference reference;
  const Decoder& decoder = Decoder::instance();
  size_t total = 0, agreed = 0;
  std::map<std::string, size_t> unsupported;  // Zydis decodes, we raise #UD
  for (const auto& code : sections) {
    size_t at = 0;
    while (at < code.size()) {
      std::string mnemonic;
      const size_t available = std::min<size_t>(15, code.size() - at);
      const size_t expected = reference.length(code.data() + at, available, &mnemonic);
      if (expected == 0) {
        ++at;
        continue;
      }
      ++total;
      const DecodeResult ours = decoder.decode(code.data() + at, available);
      if (ours.kind == DecodeResult::Kind::kOk) {
        EXPECT_EQ(ours.insn.length, expected) << mnemonic << " at offset " << at;
        agreed += ours.insn.length == expected;
      } else {
        ++unsupported[mnemonic];
      }
      at += expected;
    }
  }
  std::printf("decoder: %zu of %zu instructions of busybox decoded with the reference length\n",
              agreed, total);
  std::vector<std::pair<size_t, std::string>> missing;
  for (const auto& [name, count] : unsupported) missing.emplace_back(count, name);
  std::sort(missing.rbegin(), missing.rend());
  std::string line;
  for (size_t i = 0; i < missing.size() && i < 30; ++i) {
    line += fmt::format(" {}({})", missing[i].second, missing[i].first);
  }
  std::printf("decoder: not decoded (not implemented):%s\n", line.c_str());
}

}  // namespace
}  // namespace cella::soft
