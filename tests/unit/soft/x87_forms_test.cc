// Every x87 form of the table, run natively and on the software CPU from the same random
// states (rounding and precision control, masked and unmasked exceptions, empty and full
// stack registers, NaNs, infinities, denormals, unsupported encodings), must leave the same
// x87 state (FNSAVE image: control, status, tags, FIP, FOP, FDP, registers), memory, RAX and
// status flags.
#include <gtest/gtest.h>

#include "engines/soft/decoder/decoder.h"
#include "tests/unit/soft/x87_harness.h"

namespace cella::soft {
namespace {

using testing::FsaveImage;
using testing::X87Input;
using testing::X87Outcome;

// CELLA_X87_CASES and CELLA_X87_SEED run a deeper or different search.
int cases_per_form() {
  const char* text = std::getenv("CELLA_X87_CASES");
  return text != nullptr ? std::atoi(text) : 200;
}
uint64_t seed() {
  const char* text = std::getenv("CELLA_X87_SEED");
  return text != nullptr ? std::strtoull(text, nullptr, 0) : 0x87;
}

bool is_x87_form(const Encoding& e) {
  if (e.map == OpcodeMap::kPrimary)
    return (e.opcode >= 0xd8 && e.opcode <= 0xdf) || e.opcode == 0x9b;
  return e.map == OpcodeMap::k0F && e.opcode == 0xae && (e.modrm_reg == 0 || e.modrm_reg == 1) &&
         e.modrm_mod == 0;
}

std::vector<uint16_t> x87_forms() {
  std::vector<uint16_t> forms;
  const Decoder& decoder = Decoder::instance();
  for (uint16_t i = 0; i < decoder.form_count(); ++i) {
    if (is_x87_form(decoder.encoding(i))) forms.push_back(i);
  }
  return forms;
}

// The instruction bytes of a form: a memory operand is [rsi]; ST(i) is `i`.
std::vector<uint8_t> encode(const Encoding& e, unsigned i) {
  std::vector<uint8_t> bytes;
  if (e.rex_w == 1) bytes.push_back(0x48);
  if (e.map == OpcodeMap::k0F) bytes.push_back(0x0f);
  bytes.push_back(e.opcode);
  if (!e.has_modrm) return bytes;
  const unsigned reg = e.modrm_reg < 0 ? 0 : static_cast<unsigned>(e.modrm_reg);
  if (e.modrm_mod == 0) {
    bytes.push_back(static_cast<uint8_t>(reg << 3 | 6));
  } else {
    const unsigned rm = e.modrm_rm >= 0 ? static_cast<unsigned>(e.modrm_rm) : i;
    bytes.push_back(static_cast<uint8_t>(0xc0 | reg << 3 | rm));
  }
  return bytes;
}

bool is_fxsave(const Encoding& e) {
  return e.map == OpcodeMap::k0F && e.modrm_reg == 0;
}
bool is_fxrstor(const Encoding& e) {
  return e.map == OpcodeMap::k0F && e.modrm_reg == 1;
}

// Where the comparison deliberately differs from the host, an AMD processor: its FXSAVE stores
// FOP, FIP and FDP only while an exception is pending (Cella stores them always, as Intel
// processors do), its MXCSR_MASK has the AMD-only MM bit, and the host's XMM registers are not
// the guest's.
void mask_expected_differences(const Encoding& e, X87Outcome& out) {
  if (!is_fxsave(e)) return;
  std::fill(out.data.begin() + 6, out.data.begin() + 24, 0);
  std::fill(out.data.begin() + 28, out.data.begin() + 32, 0);
  std::fill(out.data.begin() + 160, out.data.begin() + 416, 0);
}

std::string name_of(uint16_t form) {
  const Decoder& decoder = Decoder::instance();
  std::string name = fmt::format("{}_{}", decoder.form(form).mnemonic, decoder.form(form).opcode);
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return fmt::format("{}_{}", name, form);
}

class X87FormTest : public ::testing::TestWithParam<uint16_t> {};

TEST_P(X87FormTest, MatchesHost) {
  const uint16_t form = GetParam();
  const Encoding& e = Decoder::instance().encoding(form);
  testing::NativeX87 native;
  testing::SoftX87 soft;
  testing::X87Random random(seed() * 1000 + form);
  int failures = 0;
  const int cases = cases_per_form();
  for (int n = 0; n < cases && failures < 3; ++n) {
    const std::vector<uint8_t> insn = encode(e, random.below(8));
    X87Input in = random.input();
    if (is_fxrstor(e)) {  // a valid MXCSR, or the host faults (tested separately)
      const uint32_t mxcsr = static_cast<uint32_t>(random.bits() & 0xffff);
      std::memcpy(in.data.data() + 24, &mxcsr, 4);
    }
    X87Outcome actual = soft.run(insn, in);
    mask_expected_differences(e, actual);
    constexpr uint64_t kStatusFlags = 0x8d5;
    auto same_as = [&](const X87Outcome& expected) {
      return !actual.faulted && expected.state.bytes == actual.state.bytes &&
             expected.data == actual.data && expected.rax == actual.rax &&
             (expected.rflags & kStatusFlags) == (actual.rflags & kStatusFlags);
    };
    // The host run is retried: when the OS switches contexts between the instruction and the
    // FNSAVE, an AMD processor's state save drops FIP, FDP and FOP (no exception pending).
    X87Outcome expected;
    bool same = false;
    for (int attempt = 0; attempt < 3 && !same; ++attempt) {
      expected = native.run(insn, in);
      mask_expected_differences(e, expected);
      same = same_as(expected);
    }
    if (same) continue;
    ++failures;
    std::string memory;
    for (size_t i = 0; i < expected.data.size(); ++i) {
      if (expected.data[i] != actual.data[i]) {
        memory += fmt::format(" [{}] {:02x}/{:02x}", i, expected.data[i], actual.data[i]);
      }
    }
    ADD_FAILURE() << "insn " << testing::hex(insn) << "\ninput:\n"
                  << testing::describe(in.state) << fmt::format("\nrflags in: {:x}", in.rflags)
                  << "\nmemory in: " << testing::hex(std::span(in.data).first(16)) << "\nhost:\n"
                  << testing::describe(expected.state) << "\nsoft:\n"
                  << testing::describe(actual.state)
                  << (actual.faulted
                          ? fmt::format("\nsoft faulted: {}", x86::vector_mnemonic(actual.vector))
                          : "")
                  << fmt::format("\nrax {:x}/{:x} rflags {:x}/{:x}\nmemory (host/soft):{}",
                                 expected.rax, actual.rax, expected.rflags & kStatusFlags,
                                 actual.rflags & kStatusFlags, memory);
  }
}

INSTANTIATE_TEST_SUITE_P(AllForms, X87FormTest, ::testing::ValuesIn(x87_forms()),
                         [](const ::testing::TestParamInfo<uint16_t>& param) {
                           return name_of(param.param);
                         });

bool same_outcome(const X87Outcome& a, const X87Outcome& b) {
  constexpr uint64_t kStatusFlags = 0x8d5;
  return !b.faulted && a.state.bytes == b.state.bytes && a.data == b.data && a.rax == b.rax &&
         (a.rflags & kStatusFlags) == (b.rflags & kStatusFlags);
}

// Prefixes: 66 selects the 16-bit FNSTENV/FLDENV/FNSAVE/FRSTOR layouts (REX.W wins over it);
// otherwise 66, F2, F3 and REX are ignored by x87 instructions; 67 truncates the address; a
// displacement changes FDP.
TEST(X87Forms, PrefixedEncodingsMatchHost) {
  const std::vector<std::vector<uint8_t>> encodings = {
      {0x66, 0xd9, 0x36},       {0x66, 0xd9, 0x26}, {0x66, 0xdd, 0x36},
      {0x66, 0xdd, 0x26},       {0x48, 0xd9, 0x36}, {0x48, 0xd9, 0x26},
      {0x48, 0xdd, 0x36},       {0x48, 0xdd, 0x26}, {0x66, 0x48, 0xd9, 0x36},
      {0x66, 0x48, 0xdd, 0x26}, {0x66, 0xd8, 0xc1}, {0xf3, 0xd8, 0x06},
      {0xf2, 0xdd, 0x16},       {0x66, 0xdf, 0x3e}, {0x67, 0xd9, 0x06},
      {0x67, 0xdd, 0x36},       {0x40, 0xd9, 0x06}, {0xd9, 0x46, 0x10},
      {0xdd, 0x9e, 0, 1, 0, 0}, {0x66, 0xdf, 0xe0}, {0x48, 0xdf, 0xe0}};
  testing::NativeX87 native;
  testing::SoftX87 soft;
  testing::X87Random random(99);
  for (const auto& insn : encodings) {
    for (int n = 0; n < 64; ++n) {
      const X87Input in = random.input();
      const X87Outcome actual = soft.run(insn, in);
      bool same = false;
      for (int attempt = 0; attempt < 3 && !same; ++attempt) {
        same = same_outcome(native.run(insn, in), actual);
      }
      EXPECT_TRUE(same) << testing::hex(insn) << "\n" << testing::describe(in.state);
      if (!same) break;
    }
  }
}

// The x87 opcode map (SDM Vol. 2D A.4, Tables ): every escape byte with every
// register ModRM byte and every memory ModRM.reg decodes, except exactly the encodings the host
// processor rejects with #UD (listed here as observed, matching the SDM's blank entries).
TEST(X87Forms, DecodeExactlyTheX87OpcodeMap) {
  struct Invalid {
    uint8_t escape;
    std::vector<uint8_t> modrm;  // register forms (C0-FF) and memory forms (/digit as 0-7)
  };
  const Invalid kInvalid[] = {
      {0xd8, {}},
      {0xd9, {1, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xe2, 0xe3, 0xe6, 0xe7, 0xef}},
      {0xda, {0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xea, 0xeb,
              0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6,
              0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff}},
      {0xdb, {4, 6, 0xe5, 0xe6, 0xe7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff}},
      {0xdc, {}},
      {0xdd,
       {5, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe,
        0xff}},
      {0xde, {0xd8, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf}},
      {0xdf,
       {0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff}},
  };
  for (const Invalid& entry : kInvalid) {
    for (unsigned modrm = 0; modrm < 256; ++modrm) {
      if (modrm < 0xc0 && (modrm & 0xc7) != 0x06) continue;  // one memory form per /digit
      const uint8_t key = static_cast<uint8_t>(modrm < 0xc0 ? (modrm >> 3) & 7 : modrm);
      const bool invalid =
          std::find(entry.modrm.begin(), entry.modrm.end(), key) != entry.modrm.end();
      const uint8_t bytes[] = {entry.escape, static_cast<uint8_t>(modrm)};
      const DecodeResult r = Decoder::instance().decode(bytes, sizeof(bytes));
      EXPECT_EQ(r.kind == DecodeResult::Kind::kOk, !invalid)
          << fmt::format("{:02X} {:02X}", entry.escape, modrm);
    }
  }
  std::printf("x87 forms tested against the host: %zu\n", x87_forms().size());
}

}  // namespace
}  // namespace cella::soft
