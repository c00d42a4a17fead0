#include "devices/rtc/civil_time.h"

#include "base/bits.h"

namespace cella::devices {

namespace {

constexpr int64_t kSecondsPerDay = 86400;
constexpr int64_t kDaysPerEra = 146097;  // 400 Gregorian years

// Days since 1970-01-01 of a date; years start in March so the leap day ends them.
int64_t days_from_civil(int64_t year, int64_t month, int64_t day) {
  // Normalize the month into 1..12 first, carrying into the year.
  year += floor_div(month - 1, 12);
  month = month - 1 - floor_div(month - 1, 12) * 12 + 1;
  if (month <= 2) --year;
  const int64_t era = floor_div(year, 400);
  const int64_t year_of_era = year - era * 400;
  const int64_t march_month = month > 2 ? month - 3 : month + 9;
  const int64_t day_of_year = (153 * march_month + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * kDaysPerEra + day_of_era - 719468;  // 719468: 0000-03-01 to 1970-01-01
}

}  // namespace

CivilTime civil_from_seconds(int64_t seconds) {
  const int64_t days = floor_div(seconds, kSecondsPerDay);
  const int64_t second_of_day = seconds - days * kSecondsPerDay;
  const int64_t shifted = days + 719468;
  const int64_t era = floor_div(shifted, kDaysPerEra);
  const int64_t day_of_era = shifted - era * kDaysPerEra;
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t march_month = (5 * day_of_year + 2) / 153;
  CivilTime t;
  t.day = static_cast<int>(day_of_year - (153 * march_month + 2) / 5 + 1);
  t.month = static_cast<int>(march_month < 10 ? march_month + 3 : march_month - 9);
  t.year = year_of_era + era * 400 + (t.month <= 2 ? 1 : 0);
  t.hour = static_cast<int>(second_of_day / 3600);
  t.minute = static_cast<int>(second_of_day / 60 % 60);
  t.second = static_cast<int>(second_of_day % 60);
  const int64_t weekday = (days + 4) % 7;  // 1970-01-01 was a Thursday
  t.weekday = static_cast<int>(weekday < 0 ? weekday + 7 : weekday);
  return t;
}

int64_t seconds_from_civil(const CivilTime& t) {
  return days_from_civil(t.year, t.month, t.day) * kSecondsPerDay + int64_t{t.hour} * 3600 +
         int64_t{t.minute} * 60 + t.second;
}

}  // namespace cella::devices
