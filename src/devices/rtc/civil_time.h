// Calendar arithmetic for the RTC: seconds since the Unix epoch to and from the proleptic
// Gregorian calendar (the "days from civil" method: March-based years in 400-year eras).
#pragma once

#include <cstdint>

namespace cella::devices {

struct CivilTime {
  int64_t year;
  int month;    // 1-12
  int day;      // 1-31
  int hour;     // 0-23
  int minute;   // 0-59
  int second;   // 0-59
  int weekday;  // 0 = Sunday
};

CivilTime civil_from_seconds(int64_t seconds);
// Accepts out-of-range fields (month 13, day 40) and normalizes them arithmetically.
int64_t seconds_from_civil(const CivilTime& time);

}  // namespace cella::devices
