// MC146818A register indices and bits (Motorola MC146818A datasheet, "Address Map" and
// "Register A" to "Register D"; PIIX4 datasheet 4.8.2 for the PC's CMOS layout).
#pragma once

#include <cstdint>

namespace cella::devices::rtc {

inline constexpr uint8_t kSeconds = 0x00;
inline constexpr uint8_t kSecondsAlarm = 0x01;
inline constexpr uint8_t kMinutes = 0x02;
inline constexpr uint8_t kMinutesAlarm = 0x03;
inline constexpr uint8_t kHours = 0x04;
inline constexpr uint8_t kHoursAlarm = 0x05;
inline constexpr uint8_t kWeekday = 0x06;  // 1 = Sunday
inline constexpr uint8_t kDay = 0x07;
inline constexpr uint8_t kMonth = 0x08;
inline constexpr uint8_t kYear = 0x09;
inline constexpr uint8_t kRegisterA = 0x0a;
inline constexpr uint8_t kRegisterB = 0x0b;
inline constexpr uint8_t kRegisterC = 0x0c;
inline constexpr uint8_t kRegisterD = 0x0d;
inline constexpr uint8_t kFirstMemoryByte = 0x0e;
inline constexpr uint8_t kCentury = 0x32;  // the ACPI FADT CENTURY field of PCs points here

// Register A: UIP (read-only), DV2-DV0 divider, RS3-RS0 periodic rate.
inline constexpr uint8_t kAUpdateInProgress = 0x80;
inline constexpr uint8_t kADividerMask = 0x70;
inline constexpr uint8_t kADivider32k = 0x20;  // 010: 32.768 kHz time base, running
inline constexpr uint8_t kARateMask = 0x0f;
// Register B.
inline constexpr uint8_t kBSet = 0x80;
inline constexpr uint8_t kBPeriodicEnable = 0x40;
inline constexpr uint8_t kBAlarmEnable = 0x20;
inline constexpr uint8_t kBUpdateEndedEnable = 0x10;
inline constexpr uint8_t kBSquareWave = 0x08;
inline constexpr uint8_t kBBinary = 0x04;
inline constexpr uint8_t kB24Hour = 0x02;
inline constexpr uint8_t kBDaylightSaving = 0x01;
inline constexpr uint8_t kBInterruptEnables = 0x70;
// Register C: the flags sit at the positions of their enables in register B.
inline constexpr uint8_t kCInterruptRequest = 0x80;
inline constexpr uint8_t kCPeriodic = 0x40;
inline constexpr uint8_t kCAlarm = 0x20;
inline constexpr uint8_t kCUpdateEnded = 0x10;
// Register D: valid RAM and time (the battery is good).
inline constexpr uint8_t kDValid = 0x80;
// Alarm bytes with both top bits set match any value ("don't care").
inline constexpr uint8_t kAlarmDontCare = 0xc0;
// The 12-hour format's PM flag in the hour bytes.
inline constexpr uint8_t kHourPm = 0x80;

// Datasheet "Update Cycle": UIP rises 244 us before the update, which lasts 1984 us with a
// 32.768 kHz time base.
inline constexpr int64_t kUipLeadNs = 244'000;
inline constexpr int64_t kUpdateCycleNs = 1'984'000;
// The divider chain runs at 32768 Hz; periodic rates divide it (datasheet Table 5).
inline constexpr int64_t kTimeBaseHz = 32768;

}  // namespace cella::devices::rtc
