// The CPUID policy: the exact set of features a virtual CPU advertises, and the leaves
// generated from it. An engine advertises what it implements, nothing more: the feature list
// is data (cpuid_features.inc), and every leaf is computed from the enabled set.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace cella::x86 {

enum class CpuidRegister : uint8_t { kEax, kEbx, kEcx, kEdx };

enum class Feature : uint8_t {
#define X(name, leaf, subleaf, reg, bit) name,
#include "cpu/x86/cpuid_features.inc"
#undef X
  kCount,
};

struct FeatureInfo {
  const char* name;  // as Linux shows it in /proc/cpuinfo
  uint32_t leaf;
  uint32_t subleaf;
  CpuidRegister reg;
  uint8_t bit;
};
const FeatureInfo& feature_info(Feature feature);

struct CpuidResult {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
  bool operator==(const CpuidResult&) const = default;
};

class CpuidPolicy {
 public:
  CpuidPolicy(std::initializer_list<Feature> features);

  bool has(Feature feature) const;
  void set(Feature feature, bool enabled);
  std::vector<Feature> features() const;

  // SDM Vol. 2A CPUID: the result for (EAX=leaf, ECX=subleaf).
  CpuidResult query(uint32_t leaf, uint32_t subleaf) const;

  // Identity fields (SDM Vol. 2A Table 3-8, leaf 0 and leaf 1 EAX/EBX).
  std::string vendor = "GenuineIntel";
  std::string brand = "Cella virtual CPU";
  uint32_t family = 6, model = 0x55, stepping = 4;
  uint32_t apic_id = 0;
  uint8_t physical_address_bits = 40, linear_address_bits = 48;
  uint32_t tsc_khz = 0;  // advertised TSC frequency, 0: leaves 0x15/0x16 report none

 private:
  uint64_t enabled_[2] = {0, 0};
};

}  // namespace cella::x86
