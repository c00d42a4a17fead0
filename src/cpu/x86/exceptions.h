// Exception and interrupt vectors (SDM Vol. 3A 6.3.1, Table 6-1).
#pragma once

#include <cstdint>

namespace cella::x86 {

enum class Vector : uint8_t {
  kDivideError = 0,  // #DE
  kDebug = 1,        // #DB
  kNmi = 2,
  kBreakpoint = 3,          // #BP
  kOverflow = 4,            // #OF
  kBoundRange = 5,          // #BR
  kInvalidOpcode = 6,       // #UD
  kDeviceNotAvailable = 7,  // #NM
  kDoubleFault = 8,         // #DF
  kInvalidTss = 10,         // #TS
  kSegmentNotPresent = 11,  // #NP
  kStackFault = 12,         // #SS
  kGeneralProtection = 13,  // #GP
  kPageFault = 14,          // #PF
  kX87FloatingPoint = 16,   // #MF
  kAlignmentCheck = 17,     // #AC
  kMachineCheck = 18,       // #MC
  kSimdFloatingPoint = 19,  // #XM
  kVirtualization = 20,     // #VE
  kControlProtection = 21,  // #CP
};

const char* vector_mnemonic(Vector vector);  // "#GP", "#PF", ...

// SDM Vol. 3A 4.7, Figure 4-12: page-fault error code bits.
namespace pf_error {
inline constexpr uint32_t kPresent = 1u << 0;
inline constexpr uint32_t kWrite = 1u << 1;
inline constexpr uint32_t kUser = 1u << 2;
inline constexpr uint32_t kReservedBit = 1u << 3;
inline constexpr uint32_t kInstructionFetch = 1u << 4;
}  // namespace pf_error

// A guest exception raised by an instruction: data, never a host error.
struct Fault {
  Vector vector = Vector::kDivideError;
  bool has_error_code = false;
  uint32_t error_code = 0;
  uint64_t address = 0;  // #PF: the faulting linear address (CR2)
};

}  // namespace cella::x86
