// Every MMX/SSE/SSE2/SSE3/SSSE3/SSE4.1 form of the table, run natively and on the software CPU
// from random states biased towards special values, with register and memory operands
// (aligned and misaligned) and masked and unmasked MXCSR exceptions: results, MXCSR, EFLAGS,
// x87/MMX state, memory and faults must all agree.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string_view>

#include "tests/unit/soft/simd_harness.h"

namespace cella::testing {
namespace {

using soft::Decoder;
using x86::Feature;

bool is_simd(Feature f) {
  return f == Feature::kMmx || f == Feature::kSse || f == Feature::kSse2 || f == Feature::kSse3 ||
         f == Feature::kSsse3 || f == Feature::kSse41;
}

// CELLA_SIMD_FORM=MNEMONIC restricts the run to one mnemonic (for debugging).
std::vector<uint16_t> simd_forms() {
  std::vector<uint16_t> forms;
  const Decoder& decoder = Decoder::instance();
  const char* only = std::getenv("CELLA_SIMD_FORM");
  for (uint16_t i = 0; i < decoder.form_count(); ++i) {
    if (only != nullptr && std::string_view(only) != decoder.form(i).mnemonic) continue;
    if (is_simd(decoder.form(i).feature()) && !decoder.form(i).has(soft::attr::kNoDiff)) {
      forms.push_back(i);
    }
  }
  return forms;
}

struct Variant {
  bool memory;
  bool misaligned;
  bool unmasked;
  int runs;
};

TEST(SseForms, EveryFormMatchesTheHost) {
  SimdHarness harness;
  const Decoder& decoder = Decoder::instance();
  const std::vector<uint16_t> forms = simd_forms();
  constexpr Variant kVariants[] = {
      {false, false, false, 120}, {true, false, false, 60}, {false, false, true, 40},
      {true, false, true, 20},    {true, true, false, 10},
  };
  size_t tested = 0, runs = 0, failures = 0;
  for (uint16_t form : forms) {
    std::mt19937_64 rng(0x5eed0000 + form);
    bool any = false;
    for (const Variant& v : kVariants) {
      for (int run = 0; run < v.runs; ++run) {
        const auto choice = random_operands(form, v.memory, v.misaligned, rng);
        if (!choice) break;
        any = true;
        const std::vector<uint8_t> bytes = encode_form(form, *choice);
        const SimdInput input = random_input(rng, v.unmasked);
        const std::string diff = harness.compare(bytes, input);
        ++runs;
        if (!diff.empty() && ++failures <= 40) {
          ADD_FAILURE() << decoder.form(form).mnemonic << " " << decoder.form(form).opcode << " "
                        << decoder.form(form).operands << " [" << hex(bytes) << "] mxcsr "
                        << std::hex << mxcsr_of(input) << "\n"
                        << diff;
        }
      }
    }
    if (any) ++tested;
  }
  EXPECT_EQ(failures, 0u);
  EXPECT_EQ(tested, forms.size());
  std::printf("SIMD forms tested against the host: %zu / %zu (%zu runs)\n", tested, forms.size(),
              runs);
}

}  // namespace
}  // namespace cella::testing
