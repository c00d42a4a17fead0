#include "devices/pit8254/port61.h"

namespace cella::devices {

namespace {
constexpr uint8_t kWritable = 0x0f;
constexpr uint8_t kGate2 = 1 << 0;
constexpr uint8_t kRefreshToggle = 1 << 4;
constexpr uint8_t kOut2 = 1 << 5;
constexpr uint64_t kRefreshPeriodNs = 15'085;  // the refresh request toggles at ~66 kHz
constexpr uint32_t kStateVersion = 1;
}  // namespace

void SystemControlPortB::reset() {
  control_ = 0;
  pit_.set_gate(2, false);
}

void SystemControlPortB::read(uint64_t offset, std::span<uint8_t> data) {
  uint8_t value = control_;
  if ((timers_.now_ns() / kRefreshPeriodNs) & 1) value |= kRefreshToggle;
  if (pit_.output(2)) value |= kOut2;
  fill_access(data, offset == 0 ? value : 0xff);
}

void SystemControlPortB::write(uint64_t offset, std::span<const uint8_t> data) {
  if (offset != 0 || data.empty()) return;
  control_ = data[0] & kWritable;
  pit_.set_gate(2, (control_ & kGate2) != 0);
}

void SystemControlPortB::save(snapshot::StateWriter& out) const {
  out.begin_section(name(), kStateVersion);
  out.u8(control_);
  out.end_section();
}

// The gate itself is part of the PIT's state; only the written bits are restored here.
Result<void> SystemControlPortB::load(snapshot::StateReader& in) {
  CELLA_TRY(in.begin_section(name(), kStateVersion));
  CELLA_TRY_ASSIGN(control, in.u8());
  CELLA_TRY(in.end_section());
  if ((control & ~kWritable) != 0) {
    return make_error("port61 state: read-only bits set in {:#x}", control);
  }
  control_ = control;
  return ok();
}

}  // namespace cella::devices
