#include "cpu/x86/control_registers.h"

#include "cpu/x86/cpuid_policy.h"

namespace cella::x86 {

uint64_t cr4_settable(const CpuidPolicy& policy) {
  struct Bit {
    uint64_t bit;
    Feature feature;  // kCount: architectural
  };
  constexpr Bit kBits[] = {
      {cr4::kTsd, Feature::kTsc},           {cr4::kDe, Feature::kDe},
      {cr4::kPse, Feature::kPse},           {cr4::kPae, Feature::kPae},
      {cr4::kMce, Feature::kMce},           {cr4::kPge, Feature::kPge},
      {cr4::kPce, Feature::kCount},         {cr4::kOsfxsr, Feature::kFxsr},
      {cr4::kOsxmmexcpt, Feature::kSse},    {cr4::kUmip, Feature::kUmip},
      {cr4::kFsgsbase, Feature::kFsgsbase}, {cr4::kOsxsave, Feature::kXsave},
      {cr4::kSmep, Feature::kSmep},         {cr4::kSmap, Feature::kSmap},
  };
  uint64_t settable = 0;
  for (const Bit& b : kBits) {
    if (b.feature == Feature::kCount || policy.has(b.feature)) settable |= b.bit;
  }
  return settable;
}

}  // namespace cella::x86
