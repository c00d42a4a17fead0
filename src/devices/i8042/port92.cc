#include "devices/i8042/port92.h"

namespace cella::devices {

namespace {
constexpr uint8_t kFastReset = 1 << 0;
constexpr uint8_t kFastA20 = 1 << 1;
constexpr uint8_t kWritable = kFastReset | kFastA20;
constexpr uint32_t kStateVersion = 1;
}  // namespace

void SystemControlPortA::reset() {
  value_ = 0;
  controller_.set_fast_a20(false);
}

void SystemControlPortA::read(uint64_t offset, std::span<uint8_t> data) {
  fill_access(data, offset == 0 ? value_ : 0xff);
}

void SystemControlPortA::write(uint64_t offset, std::span<const uint8_t> data) {
  if (offset != 0 || data.empty()) return;
  const uint8_t value = data[0] & kWritable;
  const bool reset_edge = (value & kFastReset) != 0 && (value_ & kFastReset) == 0;
  value_ = value;
  controller_.set_fast_a20((value & kFastA20) != 0);
  if (reset_edge) controller_.pulse_reset();
}

void SystemControlPortA::save(snapshot::StateWriter& out) const {
  out.begin_section(name(), kStateVersion);
  out.u8(value_);
  out.end_section();
}

// The A20 contribution itself is part of the I8042's state.
Result<void> SystemControlPortA::load(snapshot::StateReader& in) {
  CELLA_TRY(in.begin_section(name(), kStateVersion));
  CELLA_TRY_ASSIGN(value, in.u8());
  CELLA_TRY(in.end_section());
  if ((value & ~kWritable) != 0)
    return make_error("port92 state: reserved bits set in {:#x}", value);
  value_ = value;
  return ok();
}

}  // namespace cella::devices
