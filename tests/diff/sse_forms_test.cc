// Every MMX/SSE/SSE2/SSE3/SSSE3/SSE4.1 form against the host in the states the general
// differential test rarely reaches: unmasked MXCSR exceptions (every mask combination), DAZ and
// FTZ with every rounding mode, and a pending x87 exception (#MF for the MMX forms, nothing for
// the others). CELLA_DIFF_FILTER restricts the mnemonics, as in diff_test.cc.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "engines/soft/decoder/decoder.h"
#include "tests/diff/compare.h"
#include "tests/diff/form_instance.h"
#include "tests/diff/simd_check.h"

namespace cella::diff {
namespace {

using x86::Feature;

bool is_simd(Feature f) {
  return f == Feature::kMmx || f == Feature::kSse || f == Feature::kSse2 || f == Feature::kSse3 ||
         f == Feature::kSsse3 || f == Feature::kSse41;
}

enum class Variant { kUnmasked, kDenormalModes, kPendingX87 };

// The general random state, then the variant's MXCSR or x87 status.
MachineState variant_state(Variant v, std::mt19937_64& rng, const FormInstance& instance) {
  MachineState s = random_state(rng, instance);
  uint32_t mxcsr = mxcsr_of(s);
  switch (v) {
    case Variant::kUnmasked:
      mxcsr = (mxcsr & ~0x1f80u) | static_cast<uint32_t>((rng() % 64) << 7);
      break;
    case Variant::kDenormalModes:
      mxcsr = (mxcsr & ~0xe040u) | 0x8040u * (rng() % 2) | static_cast<uint32_t>((rng() % 4) << 13);
      if (rng() % 2) mxcsr ^= 0x40;
      break;
    case Variant::kPendingX87:
      s.fx[0] = static_cast<uint8_t>(s.fx[0] & ~1);           // FCW: IM unmasked
      set_fsw(s, static_cast<uint16_t>(fsw_of(s) | 0x8081));  // B, ES, IE
      break;
  }
  set_mxcsr(s, mxcsr);
  return s;
}

TEST(SseForms, EveryFormInSimdCornerStates) {
  SimdCheck check;
  ASSERT_TRUE(check.ready());
  const soft::Decoder& decoder = soft::Decoder::instance();
  const char* filter = std::getenv("CELLA_DIFF_FILTER");
  size_t forms = 0, failing = 0;
  for (uint16_t form = 0; form < decoder.form_count(); ++form) {
    const soft::FormSpec& spec = decoder.form(form);
    if (!is_simd(spec.feature()) || spec.has(soft::attr::kNoDiff)) continue;
    if (filter != nullptr && std::string(spec.mnemonic).find(filter) == std::string::npos) continue;
    ++forms;
    std::mt19937_64 rng(0x51dd0000 + form);
    size_t reported = 0;
    for (Variant v : {Variant::kUnmasked, Variant::kDenormalModes, Variant::kPendingX87}) {
      for (int c = 0; c < 24; ++c) {
        const auto instance = make_instance(form, rng);
        ASSERT_TRUE(instance) << spec.mnemonic;
        const MachineState in = variant_state(v, rng, *instance);
        const std::vector<uint8_t> data = random_data(rng, *instance, in);
        const std::string diff = check.compare(instance->bytes, in, nullptr, data);
        if (!diff.empty() && reported++ < 3) {
          ADD_FAILURE() << spec.mnemonic << " \"" << spec.opcode << "\" " << spec.operands
                        << " variant " << static_cast<int>(v) << " mxcsr " << std::hex
                        << mxcsr_of(in) << " " << diff;
        }
      }
    }
    failing += reported != 0;
  }
  EXPECT_EQ(failing, 0u);
  std::printf("SIMD corner states: %zu forms against the host, %zu failing\n", forms, failing);
}

}  // namespace
}  // namespace cella::diff
