// The UART's snapshot section: registers, the receive FIFO in order, the latched interrupt
// conditions and the time left on the character timeout.
#include <algorithm>

#include "devices/uart16550/uart16550.h"
#include "devices/uart16550/uart16550_registers.h"

namespace cella::devices {

using namespace uart16550;

namespace {
constexpr uint32_t kStateVersion = 1;
}

void Uart16550::save(snapshot::StateWriter& out) const {
  out.begin_section(name(), kStateVersion);
  out.u8(ier_);
  out.u8(fcr_);
  out.u8(lcr_);
  out.u8(mcr_);
  out.u8(lsr_errors_);
  out.u8(msr_deltas_);
  out.u8(scr_);
  out.u16(divisor_);
  out.u8(external_lines_);
  out.u8(rx_count_);
  for (unsigned i = 0; i < rx_count_; ++i) {
    const unsigned slot = (rx_head_ + i) % kFifoSize;
    out.u8(rx_[slot]);
    out.boolean((rx_break_ >> slot & 1) != 0);
  }
  out.boolean(thre_pending_);
  out.boolean(timeout_pending_);
  const uint64_t now = timers_.now_ns();
  out.boolean(timeout_timer_.armed());
  out.u64(timeout_timer_.armed() ? std::max(timeout_timer_.deadline_ns(), now) - now : 0);
  out.end_section();
}

Result<void> Uart16550::load(snapshot::StateReader& in) {
  CELLA_TRY(in.begin_section(name(), kStateVersion));
  CELLA_TRY_ASSIGN(ier, in.u8());
  CELLA_TRY_ASSIGN(fcr, in.u8());
  CELLA_TRY_ASSIGN(lcr, in.u8());
  CELLA_TRY_ASSIGN(mcr, in.u8());
  CELLA_TRY_ASSIGN(lsr_errors, in.u8());
  CELLA_TRY_ASSIGN(msr_deltas, in.u8());
  CELLA_TRY_ASSIGN(scr, in.u8());
  CELLA_TRY_ASSIGN(divisor, in.u16());
  CELLA_TRY_ASSIGN(external_lines, in.u8());
  CELLA_TRY_ASSIGN(rx_count, in.u8());
  const size_t capacity = (fcr & kFcrEnable) != 0 ? kFifoSize : 1;
  if ((ier & ~kIerMask) != 0 || (mcr & ~kMcrMask) != 0 || (lsr_errors & ~kLsrErrors) != 0 ||
      (msr_deltas & ~kMsrDeltas) != 0 || (external_lines & kMsrDeltas) != 0 ||
      rx_count > capacity) {
    return make_error(
        "uart16550 state: register values out of range (IER {:#x}, MCR {:#x}, "
        "{} bytes received with room for {})",
        ier, mcr, rx_count, capacity);
  }
  std::array<uint8_t, kFifoSize> rx{};
  uint16_t rx_break = 0;
  for (unsigned i = 0; i < rx_count; ++i) {
    CELLA_TRY_ASSIGN(byte, in.u8());
    CELLA_TRY_ASSIGN(is_break, in.boolean());
    rx[i] = byte;
    if (is_break) rx_break |= static_cast<uint16_t>(1u << i);
  }
  CELLA_TRY_ASSIGN(thre_pending, in.boolean());
  CELLA_TRY_ASSIGN(timeout_pending, in.boolean());
  CELLA_TRY_ASSIGN(timer_armed, in.boolean());
  CELLA_TRY_ASSIGN(timer_remaining, in.u64());
  CELLA_TRY(in.end_section());

  ier_ = ier;
  fcr_ =
      (fcr & kFcrEnable) != 0 ? static_cast<uint8_t>(fcr & (kFcrEnable | kFcrDmaMode | 0xc0)) : 0;
  lcr_ = lcr;
  mcr_ = mcr;
  lsr_errors_ = lsr_errors;
  msr_deltas_ = msr_deltas;
  scr_ = scr;
  divisor_ = divisor;
  external_lines_ = external_lines;
  rx_ = rx;
  rx_head_ = 0;
  rx_count_ = rx_count;
  rx_break_ = rx_break;
  thre_pending_ = thre_pending;
  timeout_pending_ = timeout_pending;
  timers_.cancel(timeout_timer_);
  if (timer_armed) timers_.arm(timeout_timer_, timers_.now_ns() + timer_remaining);
  update_irq();
  notify_receive_room();
  return ok();
}

}  // namespace cella::devices
