#include "devices/pit8254/pit8254.h"

#include "base/bits.h"

namespace cella::devices {

namespace {
// Control word (datasheet "Control Word Format"): SC1-SC0, RW1-RW0, M2-M0, BCD.
constexpr unsigned kSelectShift = 6;
constexpr unsigned kAccessShift = 4;
constexpr unsigned kModeShift = 1;
constexpr uint8_t kReadBack = 3;  // SC = 11
// Read-back command (datasheet "Read-Back Command"): bits 5 and 4 are active low.
constexpr uint8_t kReadBackNoCount = 1 << 5;
constexpr uint8_t kReadBackNoStatus = 1 << 4;
}  // namespace

Pit8254::Pit8254(TimerQueue& timers, IrqLine irq)
    : timers_(timers), irq_(irq), timer_([this] { on_timer(); }) {
  reset();
}

uint64_t Pit8254::now_tick() const {
  return pit_tick_at(timers_.now_ns());
}

void Pit8254::reset() {
  for (PitChannel& channel : channels_) channel.reset(true);
  channels_[2].reset(false);  // port 0x61 bit 0 is clear after reset
  timers_.cancel(timer_);
  irq_.set(false);
}

void Pit8254::read(uint64_t offset, std::span<uint8_t> data) {
  for (size_t i = 0; i < data.size(); ++i) data[i] = read_register(offset + i);
}

void Pit8254::write(uint64_t offset, std::span<const uint8_t> data) {
  for (size_t i = 0; i < data.size(); ++i) write_register(offset + i, data[i]);
}

uint8_t Pit8254::read_register(uint64_t offset) {
  if (offset >= kControlOffset) return 0xff;  // the control word register is write-only
  return channels_[offset].read(now_tick());
}

void Pit8254::write_register(uint64_t offset, uint8_t value) {
  if (offset > kControlOffset) return;
  if (offset == kControlOffset) {
    write_control(value);
  } else {
    channels_[offset].write(value, now_tick());
  }
  if (offset == 0 || offset == kControlOffset) update_irq();
}

void Pit8254::write_control(uint8_t value) {
  const uint64_t now = now_tick();
  const unsigned select = value >> kSelectShift;
  if (select == kReadBack) {
    for (unsigned i = 0; i < 3; ++i) {
      if (!bit(value, 1 + i)) continue;
      if (!(value & kReadBackNoStatus)) channels_[i].latch_status(now);
      if (!(value & kReadBackNoCount)) channels_[i].latch_count(now);
    }
    return;
  }
  const auto access = static_cast<PitChannel::Access>((value >> kAccessShift) & 3);
  if (access == PitChannel::kLatch) {
    channels_[select].latch_count(now);
    return;
  }
  channels_[select].control((value >> kModeShift) & 7, access, (value & 1) != 0, now);
}

void Pit8254::set_gate(unsigned channel, bool level) {
  if (channel >= 3) return;
  channels_[channel].set_gate(level, now_tick());
  if (channel == 0) update_irq();
}

bool Pit8254::output(unsigned channel) const {
  return channel < 3 && channels_[channel].out(now_tick());
}

// IRQ 0 follows counter 0's OUT after every access; the timer is armed for its next rising
// edge only (the PIC and IOAPIC latch IRQ 0 on edges).
void Pit8254::update_irq() {
  const uint64_t now = now_tick();
  irq_.set(channels_[0].out(now));
  const std::optional<uint64_t> edge = channels_[0].next_rising_edge(now);
  if (edge) {
    timers_.arm(timer_, pit_tick_ns(*edge));
  } else {
    timers_.cancel(timer_);
  }
}

// Counter 0's OUT rose: one edge on IRQ 0. If the host ran late and several periods ended,
// they coalesce into this edge (Linux's clocksource keeps time anyway).
void Pit8254::on_timer() {
  if (irq_.level()) irq_.set(false);
  irq_.set(true);
  ++metrics_.interrupts;
  update_irq();
}

}  // namespace cella::devices
