// Snapshot state of the RTC: the CMOS bytes, the index and NMI mask, and the guest's time as
// an offset from the host's wall time (so a restored guest's clock keeps following real time).
#include "devices/rtc/cmos_rtc.h"
#include "devices/rtc/cmos_rtc_registers.h"

namespace cella::devices {

using namespace rtc;

namespace {
constexpr uint32_t kStateVersion = 1;
}

void CmosRtc::save(snapshot::StateWriter& out) const {
  out.begin_section(name(), kStateVersion);
  out.bytes(cmos_);
  out.u8(index_);
  out.boolean(nmi_disabled_);
  out.u64(static_cast<uint64_t>(offset_ns_));
  out.u64(static_cast<uint64_t>(frozen_.year));
  for (int field : {frozen_.month, frozen_.day, frozen_.hour, frozen_.minute, frozen_.second,
                    frozen_.weekday}) {
    out.u8(static_cast<uint8_t>(field));
  }
  out.u64(static_cast<uint64_t>(frozen_fraction_ns_));
  out.u8(static_cast<uint8_t>(weekday_adjust_));
  out.u8(flags_);
  out.u64(static_cast<uint64_t>(flags_checked_ns_));
  out.end_section();
}

Result<void> CmosRtc::load(snapshot::StateReader& in) {
  CELLA_TRY(in.begin_section(name(), kStateVersion));
  std::array<uint8_t, 128> cmos;
  CELLA_TRY(in.bytes(cmos));
  CELLA_TRY_ASSIGN(index, in.u8());
  CELLA_TRY_ASSIGN(nmi_disabled, in.boolean());
  CELLA_TRY_ASSIGN(offset, in.u64());
  CivilTime frozen{};
  CELLA_TRY_ASSIGN(frozen_year, in.u64());
  frozen.year = static_cast<int64_t>(frozen_year);
  for (int* field : {&frozen.month, &frozen.day, &frozen.hour, &frozen.minute, &frozen.second,
                     &frozen.weekday}) {
    CELLA_TRY_ASSIGN(value, in.u8());
    *field = value;
  }
  CELLA_TRY_ASSIGN(fraction, in.u64());
  CELLA_TRY_ASSIGN(weekday_adjust, in.u8());
  CELLA_TRY_ASSIGN(flags, in.u8());
  CELLA_TRY_ASSIGN(flags_checked, in.u64());
  CELLA_TRY(in.end_section());
  // Guest-written fields are at most 255 (a byte), years at most 25599 (century 0xff).
  if (frozen.year < 0 || frozen.year > 25599 || frozen.weekday > 6 || fraction >= 1'000'000'000) {
    return make_error("cmos_rtc state: guest time out of range");
  }
  if (index > 0x7f || weekday_adjust > 6 || (flags & ~kBInterruptEnables) != 0 ||
      (cmos[kRegisterA] & kAUpdateInProgress) != 0) {
    return make_error("cmos_rtc state: impossible index {:#x}, weekday {} or flags {:#x}", index,
                      weekday_adjust, flags);
  }
  cmos_ = cmos;
  index_ = index;
  nmi_disabled_ = nmi_disabled;
  offset_ns_ = static_cast<int64_t>(offset);
  frozen_ = frozen;
  frozen_fraction_ns_ = static_cast<int64_t>(fraction);
  weekday_adjust_ = weekday_adjust;
  flags_ = flags;
  flags_checked_ns_ = static_cast<int64_t>(flags_checked);
  update_irq();
  arm_timer();
  return ok();
}

}  // namespace cella::devices
