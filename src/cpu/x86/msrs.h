// The MSR table (msrs.inc): every model-specific register a virtual CPU implements, its state
// field, writable bits and rule. RDMSR/WRMSR of an index not in the table raise #GP(0)
// (SDM Vol. 2B RDMSR, WRMSR).
#pragma once

#include <cstdint>
#include <span>

#include "cpu/x86/arch_state.h"
#include "cpu/x86/cpuid_policy.h"
#include "cpu/x86/platform.h"

namespace cella::x86 {

enum class Msr : uint8_t {
#define X(name, first, last, field, writable, rule) name,
#include "cpu/x86/msrs.inc"
#undef X
  kCount,
};

// The MSR's own checks, beyond the writable mask.
enum class MsrRule : uint8_t {
  kNone,
  kCanonical,     // the value is a linear address: non-canonical raises #GP(0)
  kPat,           // every byte is a memory type 0, 1, 4, 5, 6 or 7 (SDM Vol. 3A 12.12.2)
  kEfer,          // SCE/NXE only when advertised, LMA read-only, LME fixed while CR0.PG = 1
  kTsc,           // the field is an offset from the time source (SDM Vol. 3B 18.17)
  kTscAdjust,     // IA32_TSC_ADJUST: writes move the TSC by the same amount (18.17.3)
  kReadZero,      // reads as zero; writes of zero only
  kIgnoreWrites,  // reads as zero; writes are accepted and ignored
  kPlatform,      // owned by a device: x86::Platform::read_msr/write_msr
};

struct MsrInfo {
  const char* name;
  uint32_t first, last;            // index range
  uint64_t* (*field)(ArchState&);  // nullptr: no state field
  uint64_t writable;
  MsrRule rule;
};

std::span<const MsrInfo> msr_table();
const MsrInfo* find_msr(uint32_t index);

// What the rules need besides the architectural state.
struct MsrContext {
  Platform* platform;
  const CpuidPolicy* cpuid;
  uint64_t time_source;  // the TSC time source now (kTsc reads add the offset to it)
};

// RDMSR/WRMSR semantics. false: #GP(0), and nothing changed.
bool read_msr(ArchState& state, const MsrContext& context, uint32_t index, uint64_t& value);
bool write_msr(ArchState& state, const MsrContext& context, uint32_t index, uint64_t value);

}  // namespace cella::x86
