// Local APIC register offsets and bit fields (Intel SDM Vol. 3A 11.4.1 Table 11-1, the xAPIC
// page; 11.12.1.2 Table 11-6, the x2APIC MSRs at 0x800 + offset / 16).
#pragma once

#include <cstdint>

namespace cella::devices::lapic {

// SDM Vol. 3A Table 11-1: offsets in the xAPIC page.
inline constexpr uint16_t kId = 0x020;
inline constexpr uint16_t kVersion = 0x030;
inline constexpr uint16_t kTpr = 0x080;
inline constexpr uint16_t kApr = 0x090;
inline constexpr uint16_t kPpr = 0x0a0;
inline constexpr uint16_t kEoi = 0x0b0;
inline constexpr uint16_t kRrd = 0x0c0;
inline constexpr uint16_t kLdr = 0x0d0;
inline constexpr uint16_t kDfr = 0x0e0;
inline constexpr uint16_t kSvr = 0x0f0;
inline constexpr uint16_t kIsr = 0x100;  // 8 registers, 0x100-0x170
inline constexpr uint16_t kTmr = 0x180;  // 8 registers, 0x180-0x1f0
inline constexpr uint16_t kIrr = 0x200;  // 8 registers, 0x200-0x270
inline constexpr uint16_t kEsr = 0x280;
inline constexpr uint16_t kIcrLow = 0x300;
inline constexpr uint16_t kIcrHigh = 0x310;
inline constexpr uint16_t kLvtTimer = 0x320;  // 6 LVT entries, 0x320-0x370
inline constexpr uint16_t kTimerInitialCount = 0x380;
inline constexpr uint16_t kTimerCurrentCount = 0x390;
inline constexpr uint16_t kTimerDivide = 0x3e0;
inline constexpr uint16_t kSelfIpi = 0x3f0;  // x2APIC only (SDM Vol. 3A 11.12.11)
inline constexpr uint64_t kPageSize = 0x1000;

// Which interfaces a register exists in (Table 11-1 versus Table 11-6).
inline constexpr uint8_t kXapic = 1;
inline constexpr uint8_t kX2apic = 2;
inline constexpr uint8_t kBoth = kXapic | kX2apic;
inline constexpr uint8_t kX2apicReadOnly = 4;  // ID and LDR: writable only in xAPIC mode

// SDM Vol. 3A 11.4.4, Figure 11-5: IA32_APIC_BASE.
inline constexpr uint64_t kBaseBsp = 1ull << 8;
inline constexpr uint64_t kBaseX2apicEnable = 1ull << 10;  // EXTD (SDM Vol. 3A 11.12.1)
inline constexpr uint64_t kBaseGlobalEnable = 1ull << 11;
inline constexpr uint64_t kDefaultBase = 0xfee00000;

// SDM Vol. 3A 11.4.8, Figure 11-7: version register.
inline constexpr uint32_t kVersionValue = 0x14;  // an integrated (xAPIC) local APIC
inline constexpr uint32_t kLvtCount = 6;         // timer, thermal, perf, LINT0, LINT1, error
inline constexpr uint32_t kVersionEoiSuppression = 1u << 24;

// SDM Vol. 3A 11.9, Figure 11-23: spurious-interrupt vector register.
inline constexpr uint32_t kSvrSoftwareEnable = 1u << 8;
inline constexpr uint32_t kSvrFocusCheckDisable = 1u << 9;
inline constexpr uint32_t kSvrSuppressEoiBroadcast = 1u << 12;

// SDM Vol. 3A 11.5.3, Figure 11-9: error status register bits.
inline constexpr uint32_t kEsrSendIllegalVector = 1u << 5;
inline constexpr uint32_t kEsrReceiveIllegalVector = 1u << 6;
inline constexpr uint32_t kEsrIllegalRegisterAddress = 1u << 7;

// SDM Vol. 3A 11.5.1, Figure 11-8: the local vector table.
enum class Lvt : uint8_t { kTimer, kThermal, kPerf, kLint0, kLint1, kError };
inline constexpr uint32_t kLvtVectorMask = 0xff;
inline constexpr unsigned kLvtDeliveryModeShift = 8;  // bits 10:8
inline constexpr uint32_t kLvtRemoteIrr = 1u << 14;
inline constexpr uint32_t kLvtLevelTriggered = 1u << 15;
inline constexpr uint32_t kLvtMasked = 1u << 16;
inline constexpr unsigned kLvtTimerModeShift = 17;  // bits 18:17
// The writable bits of each entry, in Lvt order (Figure 11-8: the timer and error entries have
// no delivery mode; only LINT0/LINT1 have polarity and trigger mode).
inline constexpr uint32_t kLvtWritable[kLvtCount] = {0x000700ff, 0x000107ff, 0x000107ff,
                                                     0x0001a7ff, 0x0001a7ff, 0x000100ff};

// SDM Vol. 3A 11.5.4, Figure 11-8: timer modes in LVT timer bits 18:17.
enum class TimerMode : uint8_t { kOneShot = 0, kPeriodic = 1, kTscDeadline = 2, kReserved = 3 };

// SDM Vol. 3A 11.6.1, Figure 11-12: interrupt command register.
inline constexpr uint64_t kIcrLogical = 1ull << 11;
inline constexpr uint64_t kIcrLevelAssert = 1ull << 14;
inline constexpr uint64_t kIcrLevelTriggered = 1ull << 15;
inline constexpr unsigned kIcrShorthandShift = 18;
// Bits a write keeps: vector, delivery mode, destination mode, level, trigger, shorthand.
inline constexpr uint32_t kIcrLowWritable = 0x000ccfff;
// SDM Vol. 3A 11.12.9: in x2APIC mode the reserved ICR bits must be zero.
inline constexpr uint64_t kX2apicIcrReserved = 0x00000000fff33000ull;

// SDM Vol. 3A 11.5.4, Figure 11-10: divide configuration bits 0, 1 and 3.
inline constexpr uint32_t kDivideWritable = 0xb;

// SDM Vol. 3A 11.6.2.2, Figure 11-14: destination format register models (bits 31:28).
inline constexpr uint32_t kDfrFlat = 0xf;
inline constexpr uint32_t kDfrReservedOnes = 0x0fffffff;

}  // namespace cella::devices::lapic
