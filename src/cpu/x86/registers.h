// Register names and numbering shared by every engine.
#pragma once

#include <cstdint>

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

}  // namespace cella::x86
