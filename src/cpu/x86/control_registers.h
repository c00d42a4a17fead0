// Control register, EFER and paging-structure bit fields.
#pragma once

#include <cstdint>

namespace cella::x86 {

class CpuidPolicy;

// SDM Vol. 3A 2.5, Figure 2-7: CR0.
namespace cr0 {
inline constexpr uint64_t kPe = 1u << 0;
inline constexpr uint64_t kMp = 1u << 1;  // monitor coprocessor
inline constexpr uint64_t kEm = 1u << 2;  // emulation: x87/MMX/SSE instructions raise #UD (#NM x87)
inline constexpr uint64_t kTs = 1u << 3;  // task switched: x87/MMX/SSE instructions raise #NM
inline constexpr uint64_t kEt = 1u << 4;  // hardwired to 1
inline constexpr uint64_t kNe = 1u << 5;  // native x87 error reporting (#MF)
inline constexpr uint64_t kWp = 1u << 16;
inline constexpr uint64_t kAm = 1u << 18;
inline constexpr uint64_t kNw = 1u << 29;
inline constexpr uint64_t kCd = 1u << 30;
inline constexpr uint64_t kPg = 1u << 31;
inline constexpr uint64_t kDefined =
    kPe | kMp | kEm | kTs | kEt | kNe | kWp | kAm | kNw | kCd | kPg;
}  // namespace cr0

// SDM Vol. 3A 2.5, Figure 2-7: CR4.
namespace cr4 {
inline constexpr uint64_t kVme = 1u << 0;
inline constexpr uint64_t kPvi = 1u << 1;
inline constexpr uint64_t kTsd = 1u << 2;
inline constexpr uint64_t kDe = 1u << 3;
inline constexpr uint64_t kPse = 1u << 4;
inline constexpr uint64_t kPae = 1u << 5;
inline constexpr uint64_t kMce = 1u << 6;
inline constexpr uint64_t kPge = 1u << 7;
inline constexpr uint64_t kPce = 1u << 8;
inline constexpr uint64_t kOsfxsr = 1u << 9;       // OS supports FXSAVE/FXRSTOR: SSE enabled
inline constexpr uint64_t kOsxmmexcpt = 1u << 10;  // OS handles #XM (else #UD on SIMD FP faults)
inline constexpr uint64_t kUmip = 1u << 11;
inline constexpr uint64_t kLa57 = 1u << 12;
inline constexpr uint64_t kFsgsbase = 1u << 16;
inline constexpr uint64_t kPcide = 1u << 17;
inline constexpr uint64_t kOsxsave = 1u << 18;
inline constexpr uint64_t kSmep = 1u << 20;
inline constexpr uint64_t kSmap = 1u << 21;
// Changing any of these flushes every TLB entry, global ones included (SDM Vol. 3A 4.10.4.1).
inline constexpr uint64_t kPagingBits = kPse | kPae | kPge | kPcide | kSmep | kSmap | kLa57;
}  // namespace cr4

// The CR4 bits a CPU with `policy` lets software set: each belongs to a CPUID feature that
// advertises it (SDM Vol. 3A 2.5 and Table 2-... CPUID cross-references); setting any other raises
// #GP(0) (SDM Vol. 2B MOV to CR4).
uint64_t cr4_settable(const CpuidPolicy& policy);

// SDM Vol. 3A 2.2.1, Figure 2-4: IA32_EFER.
namespace efer {
inline constexpr uint64_t kSce = 1u << 0;
inline constexpr uint64_t kLme = 1u << 8;
inline constexpr uint64_t kLma = 1u << 10;
inline constexpr uint64_t kNxe = 1u << 11;
}  // namespace efer

// SDM Vol. 3A 4.5, Tables 4-14 to 4-20: 4-level paging-structure entries.
namespace pte {
inline constexpr uint64_t kPresent = 1u << 0;
inline constexpr uint64_t kWritable = 1u << 1;
inline constexpr uint64_t kUser = 1u << 2;
inline constexpr uint64_t kAccessed = 1u << 5;
inline constexpr uint64_t kDirty = 1u << 6;
inline constexpr uint64_t kPageSize = 1u << 7;  // PDPTE/PDE: maps a 1 GiB / 2 MiB page
inline constexpr uint64_t kGlobal = 1u << 8;    // in the entry that maps the page
inline constexpr uint64_t kExecuteDisable = uint64_t{1} << 63;
}  // namespace pte

}  // namespace cella::x86
