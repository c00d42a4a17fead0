// The local APIC's snapshot section. Times are saved relative to the clock (the counter's
// elapsed time), so a restore on another machine's time line resumes the same count.
#include "devices/lapic/lapic.h"

namespace cella::devices {

using namespace lapic;

namespace {
constexpr uint32_t kStateVersion = 1;

void save_bits(snapshot::StateWriter& out, const VectorBits& bits) {
  for (uint32_t word : bits) out.u32(word);
}
Result<void> load_bits(snapshot::StateReader& in, VectorBits& bits) {
  for (uint32_t& word : bits) {
    CELLA_TRY_ASSIGN(value, in.u32());
    word = value;
  }
  return ok();
}
}  // namespace

void Lapic::save(snapshot::StateWriter& out) const {
  out.begin_section("lapic", kStateVersion);
  out.u64(apic_base_);
  out.u32(id_);
  for (uint32_t reg : {tpr_, ldr_, dfr_, svr_, esr_, esr_pending_}) out.u32(reg);
  out.u64(icr_);
  for (uint32_t entry : lvt_) out.u32(entry);
  out.u32(initial_count_);
  out.u32(divide_config_);
  save_bits(out, isr_);
  save_bits(out, tmr_);
  save_bits(out, irr_);
  out.boolean(counter_running_);
  const uint64_t now = timers_.now_ns();
  out.u64(counter_running_ && now > counter_start_ns_ ? now - counter_start_ns_ : 0);
  out.u32(start_count_);
  out.u64(periods_);
  out.u64(tsc_deadline_);
  for (bool flag : {nmi_pending_, smi_pending_, init_pending_, ext_int_pending_}) {
    out.boolean(flag);
  }
  out.boolean(sipi_vector_.has_value());
  out.u8(sipi_vector_.value_or(0));
  out.boolean(lint_level_[0]);
  out.boolean(lint_level_[1]);
  out.end_section();
}

Result<void> Lapic::load(snapshot::StateReader& in) {
  CELLA_TRY(in.begin_section("lapic", kStateVersion));
  reset();
  CELLA_TRY_ASSIGN(base, in.u64());
  const bool enable = (base & kBaseGlobalEnable) != 0;
  const bool extd = (base & kBaseX2apicEnable) != 0;
  if ((base & (0x2ffull |
               ~(base_address_mask() | kBaseBsp | kBaseX2apicEnable | kBaseGlobalEnable))) != 0 ||
      (extd && !enable)) {
    return make_error("lapic state: invalid IA32_APIC_BASE {:#x}", base);
  }
  apic_base_ = base;
  CELLA_TRY_ASSIGN(id, in.u32());
  id_ = id;
  for (uint32_t* reg : {&tpr_, &ldr_, &dfr_, &svr_, &esr_, &esr_pending_}) {
    CELLA_TRY_ASSIGN(value, in.u32());
    *reg = value;
  }
  CELLA_TRY_ASSIGN(icr, in.u64());
  icr_ = icr;
  for (size_t i = 0; i < lvt_.size(); ++i) {
    CELLA_TRY_ASSIGN(entry, in.u32());
    lvt_[i] = entry & (kLvtWritable[i] | kLvtRemoteIrr);
  }
  CELLA_TRY_ASSIGN(initial, in.u32());
  initial_count_ = initial;
  CELLA_TRY_ASSIGN(divide, in.u32());
  divide_config_ = divide & kDivideWritable;
  CELLA_TRY(load_bits(in, isr_));
  CELLA_TRY(load_bits(in, tmr_));
  CELLA_TRY(load_bits(in, irr_));
  CELLA_TRY_ASSIGN(running, in.boolean());
  CELLA_TRY_ASSIGN(elapsed, in.u64());
  CELLA_TRY_ASSIGN(start_count, in.u32());
  CELLA_TRY_ASSIGN(periods, in.u64());
  CELLA_TRY_ASSIGN(deadline, in.u64());
  if (running && (initial_count_ == 0 || timer_mode() == TimerMode::kTscDeadline)) {
    return make_error("lapic state: a running counter without an initial count");
  }
  for (bool* flag : {&nmi_pending_, &smi_pending_, &init_pending_, &ext_int_pending_}) {
    CELLA_TRY_ASSIGN(value, in.boolean());
    *flag = value;
  }
  CELLA_TRY_ASSIGN(has_sipi, in.boolean());
  CELLA_TRY_ASSIGN(sipi, in.u8());
  if (has_sipi) sipi_vector_ = sipi;
  CELLA_TRY_ASSIGN(lint0, in.boolean());
  CELLA_TRY_ASSIGN(lint1, in.boolean());
  lint_level_ = {lint0, lint1};
  CELLA_TRY(in.end_section());

  if (running) {
    const uint64_t now = timers_.now_ns();
    counter_running_ = true;
    counter_start_ns_ = now > elapsed ? now - elapsed : 0;
    start_count_ = start_count;
    periods_ = periods;
    arm_counter();
  }
  if (timer_mode() == TimerMode::kTscDeadline && deadline != 0) {
    tsc_deadline_ = deadline;
    arm_tsc_deadline();
  }
  return ok();
}

}  // namespace cella::devices
