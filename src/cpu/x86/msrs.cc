#include "cpu/x86/msrs.h"

#include "cpu/x86/control_registers.h"

namespace cella::x86 {

namespace {

#define FIELD(member) [](ArchState& s) -> uint64_t* { return &s.member; }
#define NONE nullptr
constexpr MsrInfo kMsrs[] = {
#define X(name, first, last, field, writable, rule) \
  {&#name[1], first, last, field, writable, MsrRule::rule},
#include "cpu/x86/msrs.inc"
#undef X
};
#undef FIELD
#undef NONE

// SDM Vol. 1 3.3.7.1.
bool canonical(uint64_t value) {
  return static_cast<uint64_t>(static_cast<int64_t>(value << 16) >> 16) == value;
}

// SDM Vol. 3A 12.12.2, Table 12-10: the PAT memory types; 2, 3 and 8-255 are reserved.
bool valid_pat(uint64_t value) {
  for (int i = 0; i < 8; ++i) {
    const uint64_t type = (value >> (8 * i)) & 0xff;
    if (type == 2 || type == 3 || type > 7) return false;
  }
  return true;
}

}  // namespace

std::span<const MsrInfo> msr_table() {
  return kMsrs;
}

const MsrInfo* find_msr(uint32_t index) {
  for (const MsrInfo& msr : kMsrs) {
    if (index >= msr.first && index <= msr.last) return &msr;
  }
  return nullptr;
}

bool read_msr(ArchState& state, const MsrContext& context, uint32_t index, uint64_t& value) {
  const MsrInfo* msr = find_msr(index);
  if (msr == nullptr) return false;
  switch (msr->rule) {
    case MsrRule::kPlatform:
      return context.platform != nullptr && context.platform->read_msr(index, value);
    case MsrRule::kReadZero:
    case MsrRule::kIgnoreWrites:
      value = 0;
      return true;
    case MsrRule::kTsc:
      value = context.time_source + *msr->field(state);
      return true;
    default:
      value = *msr->field(state);
      return true;
  }
}

bool write_msr(ArchState& state, const MsrContext& context, uint32_t index, uint64_t value) {
  const MsrInfo* msr = find_msr(index);
  if (msr == nullptr) return false;
  switch (msr->rule) {
    case MsrRule::kPlatform:
      return context.platform != nullptr && context.platform->write_msr(index, value);
    case MsrRule::kReadZero:
      return value == 0;
    case MsrRule::kIgnoreWrites:
      return true;
    case MsrRule::kTsc: {
      // SDM Vol. 3B 18.17.3: what a TSC write adds to the TSC, it adds to IA32_TSC_ADJUST.
      const uint64_t offset = value - context.time_source;
      state.tsc_adjust += offset - state.tsc_offset;
      state.tsc_offset = offset;
      return true;
    }
    case MsrRule::kTscAdjust:
      // ...and what an IA32_TSC_ADJUST write adds to it, it adds to the TSC.
      state.tsc_offset += value - state.tsc_adjust;
      state.tsc_adjust = value;
      return true;
    case MsrRule::kCanonical:
      if (!canonical(value)) return false;
      break;
    case MsrRule::kPat:
      if (!valid_pat(value)) return false;
      break;
    case MsrRule::kEfer: {
      // SDM Vol. 3A 2.2.1: LMA is read-only (written values are ignored); SCE and NXE exist
      // only when CPUID advertises SYSCALL and NX; LME cannot change while paging is on
      // (SDM Vol. 3A 10.8.5).
      uint64_t writable = msr->writable & ~efer::kLma;
      if (context.cpuid != nullptr && !context.cpuid->has(Feature::kSyscall)) {
        writable &= ~efer::kSce;
      }
      if (context.cpuid != nullptr && !context.cpuid->has(Feature::kNx)) writable &= ~efer::kNxe;
      if (value & ~(writable | efer::kLma)) return false;
      if ((state.cr0 & cr0::kPg) && ((value ^ state.efer) & efer::kLme)) return false;
      state.efer = (value & writable) | (state.efer & efer::kLma);
      return true;
    }
    case MsrRule::kNone:
      break;
  }
  uint64_t* field = msr->field(state);
  if ((value ^ *field) & ~msr->writable) return false;
  *field = value;
  return true;
}

}  // namespace cella::x86
