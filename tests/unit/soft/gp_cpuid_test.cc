// The CPUID features of the general-purpose extensions: each is advertised by the soft
// engine's policy (visible through the CPUID instruction) and carried by its forms.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "engines/soft/cpuid.h"
#include "engines/soft/decoder/decoder.h"

namespace cella::soft {
namespace {

TEST(GpCpuid, ExtensionsAreAdvertisedWithTheirForms) {
  const x86::CpuidPolicy policy = soft_cpuid_policy();
  // SDM Vol. 2A CPUID: leaf 1 ECX bits 13 (CMPXCHG16B), 23 (POPCNT), EDX bit 8 (CMPXCHG8B);
  // leaf 7 EBX bits 3 (BMI1), 9 (ERMS); leaf 80000001h ECX bit 5 (LZCNT).
  EXPECT_TRUE(policy.query(1, 0).ecx & (1u << 13));
  EXPECT_TRUE(policy.query(1, 0).ecx & (1u << 23));
  EXPECT_TRUE(policy.query(1, 0).edx & (1u << 8));
  EXPECT_TRUE(policy.query(7, 0).ebx & (1u << 3));
  EXPECT_TRUE(policy.query(7, 0).ebx & (1u << 9));
  EXPECT_TRUE(policy.query(0x80000001, 0).ecx & (1u << 5));
  // BMI2, MOVBE and ADX are not implemented, so not advertised.
  EXPECT_FALSE(policy.query(7, 0).ebx & (1u << 8));
  EXPECT_FALSE(policy.query(1, 0).ecx & (1u << 22));
  EXPECT_FALSE(policy.query(7, 0).ebx & (1u << 19));

  // Which mnemonics carry each feature in the form table.
  std::set<std::string> by_feature[static_cast<int>(x86::Feature::kCount) + 1];
  const Decoder& decoder = Decoder::instance();
  for (uint16_t i = 0; i < decoder.form_count(); ++i) {
    const FormSpec& form = decoder.form(i);
    by_feature[static_cast<int>(form.feature())].insert(form.mnemonic);
  }
  using F = x86::Feature;
  auto forms_of = [&](F feature) { return by_feature[static_cast<int>(feature)]; };
  EXPECT_EQ(forms_of(F::kCx8), std::set<std::string>{"CMPXCHG8B"});
  EXPECT_EQ(forms_of(F::kCx16), std::set<std::string>{"CMPXCHG16B"});
  EXPECT_EQ(forms_of(F::kPopcnt), std::set<std::string>{"POPCNT"});
  EXPECT_EQ(forms_of(F::kAbm), std::set<std::string>{"LZCNT"});
  EXPECT_EQ(forms_of(F::kBmi1),
            (std::set<std::string>{"ANDN", "BEXTR", "BLSI", "BLSMSK", "BLSR", "TZCNT"}));
}

}  // namespace
}  // namespace cella::soft
