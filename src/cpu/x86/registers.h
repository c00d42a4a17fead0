// Register names and numbering shared by every engine.
#pragma once

#include <cstdint>

#include "cpu/x86/control_registers.h"

namespace cella::x86 {

// SDM Vol. 2A 2.2.1.2, Table 2-4: register numbering as encoded in ModRM/SIB/REX/opcode bits.
enum class Gpr : uint8_t {
  kRax,
  kRcx,
  kRdx,
  kRbx,
  kRsp,
  kRbp,
  kRsi,
  kRdi,
  kR8,
  kR9,
  kR10,
  kR11,
  kR12,
  kR13,
  kR14,
  kR15,
};
inline constexpr int kGprCount = 16;

// SDM Vol. 3A 3.4.2: segment registers in the Sreg encoding order (SDM Vol. 2A 3.1.1.3).
enum class Segment : uint8_t { kEs, kCs, kSs, kDs, kFs, kGs };
inline constexpr int kSegmentCount = 6;

// SDM Vol. 1 3.4.3, Figure 3-8: RFLAGS bits.
namespace rflags {
inline constexpr uint64_t kCf = 1u << 0;
inline constexpr uint64_t kReserved1 = 1u << 1;  // always 1
inline constexpr uint64_t kPf = 1u << 2;
inline constexpr uint64_t kAf = 1u << 4;
inline constexpr uint64_t kZf = 1u << 6;
inline constexpr uint64_t kSf = 1u << 7;
inline constexpr uint64_t kTf = 1u << 8;
inline constexpr uint64_t kIf = 1u << 9;
inline constexpr uint64_t kDf = 1u << 10;
inline constexpr uint64_t kOf = 1u << 11;
inline constexpr uint64_t kIoplShift = 12;
inline constexpr uint64_t kIopl = 3u << 12;
inline constexpr uint64_t kNt = 1u << 14;
inline constexpr uint64_t kRf = 1u << 16;
inline constexpr uint64_t kVm = 1u << 17;
inline constexpr uint64_t kAc = 1u << 18;
inline constexpr uint64_t kVif = 1u << 19;
inline constexpr uint64_t kVip = 1u << 20;
inline constexpr uint64_t kId = 1u << 21;
// The six status flags computed by arithmetic (SDM Vol. 1 3.4.3.1).
inline constexpr uint64_t kStatus = kCf | kPf | kAf | kZf | kSf | kOf;
}  // namespace rflags

// Control register bits: control_registers.h.

// SDM Vol. 1 10.2.3, Figure 10-3: MXCSR.
namespace mxcsr {
inline constexpr uint32_t kIe = 1u << 0;  // invalid operation
inline constexpr uint32_t kDe = 1u << 1;  // denormal operand
inline constexpr uint32_t kZe = 1u << 2;  // divide by zero
inline constexpr uint32_t kOe = 1u << 3;  // overflow
inline constexpr uint32_t kUe = 1u << 4;  // underflow
inline constexpr uint32_t kPe = 1u << 5;  // precision (inexact)
inline constexpr uint32_t kFlags = 0x3f;
inline constexpr uint32_t kDaz = 1u << 6;  // denormals are zeros (SDM Vol. 1 10.2.3.4)
inline constexpr int kMaskShift = 7;       // bits 12:7: the exception masks, in flag order
inline constexpr uint32_t kMasks = kFlags << kMaskShift;
inline constexpr int kRoundingShift = 13;  // bits 14:13: rounding control (SDM Vol. 1 4.8.4)
inline constexpr uint32_t kRounding = 3u << kRoundingShift;
inline constexpr uint32_t kFtz = 1u << 15;    // flush to zero (SDM Vol. 1 10.2.3.3)
inline constexpr uint32_t kDefault = 0x1f80;  // power-up value: all masked, round to nearest
}  // namespace mxcsr

}  // namespace cella::x86
