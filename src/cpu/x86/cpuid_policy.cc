#include "cpu/x86/cpuid_policy.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <iterator>

namespace cella::x86 {

namespace {

constexpr FeatureInfo kFeatures[] = {
#define X(name, leaf, subleaf, reg, bit) {#name, leaf, subleaf, CpuidRegister::reg, bit},
#include "cpu/x86/cpuid_features.inc"
#undef X
};
static_assert(std::size(kFeatures) == static_cast<size_t>(Feature::kCount));
static_assert(static_cast<size_t>(Feature::kCount) <= 128);

void set_register(CpuidResult& result, CpuidRegister reg, uint32_t bits) {
  switch (reg) {
    case CpuidRegister::kEax:
      result.eax |= bits;
      break;
    case CpuidRegister::kEbx:
      result.ebx |= bits;
      break;
    case CpuidRegister::kEcx:
      result.ecx |= bits;
      break;
    case CpuidRegister::kEdx:
      result.edx |= bits;
      break;
  }
}

// Packs up to 4 characters of text starting at offset into a register, little-endian.
uint32_t pack(std::string_view text, size_t offset) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4 && offset + i < text.size(); ++i) {
    value |= static_cast<uint32_t>(static_cast<uint8_t>(text[offset + i])) << (8 * i);
  }
  return value;
}

constexpr uint32_t kMaxBasicLeaf = 0x16;
constexpr uint32_t kMaxExtendedLeaf = 0x80000008;

}  // namespace

const FeatureInfo& feature_info(Feature feature) {
  return kFeatures[static_cast<size_t>(feature)];
}

CpuidPolicy::CpuidPolicy(std::initializer_list<Feature> features) {
  for (Feature feature : features) set(feature, true);
}

bool CpuidPolicy::has(Feature feature) const {
  const auto index = static_cast<unsigned>(feature);
  return (enabled_[index / 64] >> (index % 64)) & 1;
}

void CpuidPolicy::set(Feature feature, bool enabled) {
  const auto index = static_cast<unsigned>(feature);
  const uint64_t mask = uint64_t{1} << (index % 64);
  enabled_[index / 64] = enabled ? (enabled_[index / 64] | mask) : (enabled_[index / 64] & ~mask);
}

std::vector<Feature> CpuidPolicy::features() const {
  std::vector<Feature> result;
  for (unsigned i = 0; i < static_cast<unsigned>(Feature::kCount); ++i) {
    if (has(static_cast<Feature>(i))) result.push_back(static_cast<Feature>(i));
  }
  return result;
}

CpuidResult CpuidPolicy::query(uint32_t leaf, uint32_t subleaf) const {
  CpuidResult result;
  // SDM Vol. 2A CPUID: a basic leaf above the maximum returns the highest basic leaf's data;
  // we return zeros for unsupported leaves, as most hypervisors do.
  if ((leaf < 0x80000000 && leaf > kMaxBasicLeaf) || leaf > kMaxExtendedLeaf) return result;
  // SDM Vol. 2A CPUID: only some leaves are indexed by ECX; the others ignore it (software
  // such as glibc executes CPUID leaf 1 with whatever ECX holds).
  constexpr uint32_t kIndexedLeaves[] = {0x4,  0x7,  0xb,  0xd,  0xf,  0x10,
                                         0x12, 0x14, 0x17, 0x18, 0x1f, 0x8000001d};
  if (std::find(std::begin(kIndexedLeaves), std::end(kIndexedLeaves), leaf) ==
      std::end(kIndexedLeaves)) {
    subleaf = 0;
  }

  for (const FeatureInfo& info : kFeatures) {
    if (info.leaf == leaf && info.subleaf == subleaf &&
        has(static_cast<Feature>(&info - kFeatures))) {
      set_register(result, info.reg, 1u << info.bit);
    }
  }

  switch (leaf) {
    case 0x0:  // Table 3-8: maximum basic leaf and vendor string in EBX, EDX, ECX
      result.eax = kMaxBasicLeaf;
      result.ebx = pack(vendor, 0);
      result.edx = pack(vendor, 4);
      result.ecx = pack(vendor, 8);
      break;
    case 0x1: {
      // EAX: stepping 3:0, model 7:4, family 11:8, extended model 19:16, extended family 27:20.
      const uint32_t base_family = std::min<uint32_t>(family, 0xf);
      result.eax = (stepping & 0xf) | ((model & 0xf) << 4) | (base_family << 8) |
                   (((model >> 4) & 0xf) << 16) | ((family > 0xf ? family - 0xf : 0) << 20);
      // EBX: CLFLUSH line size in 8-byte units (bits 15:8), initial APIC ID (31:24).
      result.ebx |= (8u << 8) | (apic_id << 24) | (1u << 16);
      break;
    }
    case 0x7:
      if (subleaf != 0) return CpuidResult{};
      break;
    case 0x15:  // TSC/crystal ratio: TSC = crystal * EBX / EAX; ECX = crystal Hz
      if (tsc_khz != 0) {
        result.eax = 1;
        result.ebx = 1;
        result.ecx = tsc_khz * 1000;
      }
      break;
    case 0x16:  // processor base frequency in MHz
      if (tsc_khz != 0) result.eax = result.ebx = tsc_khz / 1000;
      break;
    case 0x80000000:
      result.eax = kMaxExtendedLeaf;
      break;
    case 0x80000002:
    case 0x80000003:
    case 0x80000004: {  // brand string, 48 bytes, NUL-padded
      const size_t base = (leaf - 0x80000002) * 16;
      result.eax = pack(brand, base);
      result.ebx = pack(brand, base + 4);
      result.ecx = pack(brand, base + 8);
      result.edx = pack(brand, base + 12);
      break;
    }
    case 0x80000008:  // address sizes: physical 7:0, linear 15:8
      result.eax = physical_address_bits | (static_cast<uint32_t>(linear_address_bits) << 8);
      break;
    default:
      break;
  }
  return result;
}

}  // namespace cella::x86
