// 82093AA IOAPIC register indices and bit fields (82093AA datasheet, sections 3.0-3.2).
#pragma once

#include <cstdint>

namespace cella::devices::ioapic {

// Datasheet 3.0, Table 1: the two memory-mapped registers.
inline constexpr uint64_t kIoRegSel = 0x00;
inline constexpr uint64_t kIoWin = 0x10;

// Datasheet 3.0, Table 2: the indirect registers.
inline constexpr uint8_t kId = 0x00;                // 3.2.1: bits 27:24
inline constexpr uint8_t kVersion = 0x01;           // 3.2.2
inline constexpr uint8_t kArbitration = 0x02;       // 3.2.3: bits 27:24
inline constexpr uint8_t kRedirectionTable = 0x10;  // 3.2.4: 0x10-0x3f, two per pin
inline constexpr uint32_t kIdMask = 0x0f000000;
inline constexpr uint32_t kVersionValue = 0x00170011;  // max redirection entry 23, version 0x11

// Datasheet 3.2.4: redirection table entry bits.
inline constexpr uint64_t kVectorMask = 0xff;
inline constexpr unsigned kDeliveryModeShift = 8;  // bits 10:8
inline constexpr uint64_t kLogical = 1ull << 11;
inline constexpr uint64_t kDeliveryStatus = 1ull << 12;  // read-only; always idle here
inline constexpr uint64_t kActiveLow = 1ull << 13;
inline constexpr uint64_t kRemoteIrr = 1ull << 14;  // read-only
inline constexpr uint64_t kLevelTriggered = 1ull << 15;
inline constexpr uint64_t kMasked = 1ull << 16;
inline constexpr unsigned kDestinationShift = 56;  // bits 63:56
// The bits a guest write changes: vector, delivery mode, destination mode, polarity, trigger
// mode, mask, destination (17-55 are reserved).
inline constexpr uint64_t kWritable = 0xff0000000001afffull;

}  // namespace cella::devices::ioapic
