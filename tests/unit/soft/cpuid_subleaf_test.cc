// CPUID leaves without subleaves ignore ECX (SDM Vol. 2A CPUID), as C libraries expect.
#include <gtest/gtest.h>

#include "engines/soft/cpuid.h"

namespace cella::soft {
namespace {

TEST(CpuidPolicy, LeavesWithoutSubleavesIgnoreEcx) {
  const x86::CpuidPolicy policy = soft_cpuid_policy();
  const x86::CpuidResult clean = policy.query(1, 0);
  EXPECT_NE(clean.edx, 0u);  // TSC, CX8, CMOV at least
  EXPECT_EQ(policy.query(1, 0x12345678), clean);
  EXPECT_EQ(policy.query(0x80000001, 7), policy.query(0x80000001, 0));
  // Leaf 7 is indexed: subleaf 1 is not subleaf 0.
  EXPECT_EQ(policy.query(7, 5), x86::CpuidResult{});
}

}  // namespace
}  // namespace cella::soft
