// Snapshot state of the PIT: each counter's programming, latches and counting element, with
// times saved relative to the moment of the snapshot so they resume on any clock.
#include "devices/pit8254/pit8254.h"

namespace cella::devices {

namespace {
constexpr uint32_t kStateVersion = 1;
}

void PitChannel::save(snapshot::StateWriter& out, uint64_t now) const {
  for (uint8_t v : {mode_bits_, static_cast<uint8_t>(access_), written_lsb_}) out.u8(v);
  for (bool b :
       {bcd_, write_msb_next_, read_msb_next_, count_latched_, latched_msb_next_, status_latched_,
        gate_, null_count_, loaded_, triggered_, counting_, reload_pending_}) {
    out.boolean(b);
  }
  out.u16(latched_count_);
  out.u8(latched_status_);
  out.u32(reload_);
  out.u32(pending_reload_);
  out.u16(idle_value_);
  out.u64(paused_);
  out.u64(counting_ ? now - start_tick_ : 0);  // ticks since the start
  out.u64(reload_pending_ && pending_tick_ > now ? pending_tick_ - now : 0);
}

Result<void> PitChannel::load(snapshot::StateReader& in, uint64_t now) {
  PitChannel c;
  CELLA_TRY_ASSIGN(mode_bits, in.u8());
  CELLA_TRY_ASSIGN(access, in.u8());
  CELLA_TRY_ASSIGN(written_lsb, in.u8());
  for (bool* b : {&c.bcd_, &c.write_msb_next_, &c.read_msb_next_, &c.count_latched_,
                  &c.latched_msb_next_, &c.status_latched_, &c.gate_, &c.null_count_, &c.loaded_,
                  &c.triggered_, &c.counting_, &c.reload_pending_}) {
    CELLA_TRY_ASSIGN(value, in.boolean());
    *b = value;
  }
  CELLA_TRY_ASSIGN(latched_count, in.u16());
  CELLA_TRY_ASSIGN(latched_status, in.u8());
  CELLA_TRY_ASSIGN(reload, in.u32());
  CELLA_TRY_ASSIGN(pending_reload, in.u32());
  CELLA_TRY_ASSIGN(idle_value, in.u16());
  CELLA_TRY_ASSIGN(paused, in.u64());
  CELLA_TRY_ASSIGN(since_start, in.u64());
  CELLA_TRY_ASSIGN(until_reload, in.u64());
  // A count is at most 0x10000 (binary 0) or 0x9999 read as BCD digits (16665 with hex digits).
  if (mode_bits > 7 || access == kLatch || access > kLsbMsb || reload == 0 || reload > 0x10000 ||
      (c.reload_pending_ && (pending_reload == 0 || pending_reload > 0x10000))) {
    return make_error("pit8254 state: impossible counter (mode {}, access {}, count {:#x})",
                      mode_bits, access, reload);
  }
  c.mode_bits_ = mode_bits;
  c.access_ = static_cast<Access>(access);
  c.written_lsb_ = written_lsb;
  c.latched_count_ = latched_count;
  c.latched_status_ = latched_status;
  c.reload_ = reload;
  c.pending_reload_ = pending_reload;
  c.idle_value_ = idle_value;
  c.paused_ = paused;
  c.start_tick_ = now - since_start;
  c.pending_tick_ = now + until_reload;
  *this = c;
  return ok();
}

void Pit8254::save(snapshot::StateWriter& out) const {
  out.begin_section(name(), kStateVersion);
  const uint64_t now = now_tick();
  for (const PitChannel& channel : channels_) channel.save(out, now);
  out.end_section();
}

Result<void> Pit8254::load(snapshot::StateReader& in) {
  CELLA_TRY(in.begin_section(name(), kStateVersion));
  const uint64_t now = now_tick();
  std::array<PitChannel, 3> channels;
  for (PitChannel& channel : channels) CELLA_TRY(channel.load(in, now));
  CELLA_TRY(in.end_section());
  channels_ = channels;
  update_irq();
  return ok();
}

}  // namespace cella::devices
