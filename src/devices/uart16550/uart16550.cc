#include "devices/uart16550/uart16550.h"

#include <algorithm>

#include "devices/uart16550/uart16550_registers.h"

namespace cella::devices {

using namespace uart16550;

Uart16550::Uart16550(TimerQueue& timers, IrqLine irq, CharBackend* backend)
    : timers_(timers), irq_(irq), backend_(backend), timeout_timer_([this] { on_timeout(); }) {
  reset();
}

// Datasheet Table III "UART Reset Configuration": IER, IIR, FCR, LCR, MCR cleared, LSR shows an
// empty transmitter, MSR deltas cleared. The divisor latch and scratch are not reset by the chip;
// a PC's firmware leaves 9600 baud behind.
void Uart16550::reset() {
  timers_.cancel(timeout_timer_);
  ier_ = fcr_ = lcr_ = mcr_ = lsr_errors_ = msr_deltas_ = scr_ = 0;
  divisor_ = 12;
  external_lines_ = kMsrCts | kMsrDsr | kMsrDcd;
  rx_head_ = rx_count_ = 0;
  rx_break_ = 0;
  thre_pending_ = false;
  timeout_pending_ = false;
  update_irq();
  notify_receive_room();  // input that waited for the old FIFO flows into the new one
}

bool Uart16550::fifo_enabled() const {
  return (fcr_ & kFcrEnable) != 0;
}

size_t Uart16550::receive_capacity() const {
  return fifo_enabled() ? kFifoSize : 1;
}

void Uart16550::read(uint64_t offset, std::span<uint8_t> data) {
  // Registers are bytes; a wider access reads consecutive registers.
  for (size_t i = 0; i < data.size(); ++i) data[i] = read_register(offset + i);
}

void Uart16550::write(uint64_t offset, std::span<const uint8_t> data) {
  for (size_t i = 0; i < data.size(); ++i) write_register(offset + i, data[i]);
}

uint8_t Uart16550::read_register(uint64_t offset) {
  const bool dlab = (lcr_ & kLcrDlab) != 0;
  switch (offset) {
    case kRbrThrDll:
      return dlab ? static_cast<uint8_t>(divisor_) : read_rbr();
    case kIerDlm:
      return dlab ? static_cast<uint8_t>(divisor_ >> 8) : ier_;
    case kIirFcr: {
      const uint8_t source = pending_interrupt();
      // Datasheet 8.4: reading the IIR with a THRE interrupt identified clears it.
      if (source == kIirThrEmpty) {
        thre_pending_ = false;
        update_irq();
      }
      return static_cast<uint8_t>(source | (fifo_enabled() ? kIirFifosEnabled : 0));
    }
    case kLcr:
      return lcr_;
    case kMcr:
      return mcr_;
    case kLsr: {
      // Datasheet 8.2: the error bits clear when the LSR is read.
      const uint8_t value =
          static_cast<uint8_t>((rx_count_ > 0 ? kLsrDataReady : 0) | line_errors() | kLsrThrEmpty |
                               kLsrTransmitterEmpty);
      lsr_errors_ = 0;
      if (top_has_break()) rx_break_ &= static_cast<uint16_t>(~(1u << rx_head_));
      update_irq();
      return value;
    }
    case kMsr: {
      // Datasheet 8.7: the delta bits clear when the MSR is read.
      const uint8_t value = static_cast<uint8_t>(msr_deltas_ | modem_lines());
      msr_deltas_ = 0;
      update_irq();
      return value;
    }
    case kScr:
      return scr_;
    default:
      return 0xff;  // outside the 8 registers (a wide access running past the end)
  }
}

void Uart16550::write_register(uint64_t offset, uint8_t value) {
  const bool dlab = (lcr_ & kLcrDlab) != 0;
  switch (offset) {
    case kRbrThrDll:
      if (dlab) {
        divisor_ = static_cast<uint16_t>((divisor_ & 0xff00) | value);
      } else {
        transmit(value);
      }
      return;
    case kIerDlm:
      if (dlab) {
        divisor_ = static_cast<uint16_t>((divisor_ & 0x00ff) | (value << 8));
        return;
      } else {
        const uint8_t enabled = static_cast<uint8_t>(value & kIerMask);
        // Datasheet 8.4: enabling ETBEI with the THR empty raises the THRE interrupt (Linux's
        // 8250 startup checks that it is raised again each time).
        if ((enabled & kIerThrEmpty) != 0 && (ier_ & kIerThrEmpty) == 0) thre_pending_ = true;
        ier_ = enabled;
        update_timeout();
        update_irq();
      }
      return;
    case kIirFcr:
      write_fcr(value);
      return;
    case kLcr:
      lcr_ = value;
      return;
    case kMcr:
      write_mcr(value);
      return;
    case kLsr:  // the LSR and MSR are read-only (datasheet Table II: factory test only)
    case kMsr:
      return;
    case kScr:
      scr_ = value;
      return;
    default:
      return;
  }
}

// Datasheet 8.3: FCR bit 0 must be set for the other bits to take effect; changing it clears
// both FIFOs.
void Uart16550::write_fcr(uint8_t value) {
  const bool was_enabled = fifo_enabled();
  const bool enable = (value & kFcrEnable) != 0;
  bool clear_receive = was_enabled != enable || (enable && (value & kFcrClearReceive) != 0);
  fcr_ = enable ? static_cast<uint8_t>(value & (kFcrEnable | kFcrDmaMode | 0xc0)) : 0;
  if (clear_receive) {
    rx_count_ = 0;
    rx_head_ = 0;
    rx_break_ = 0;
    timeout_pending_ = false;
  }
  // The transmit FIFO is always empty: bytes leave as soon as they are written.
  update_timeout();
  update_irq();
  if (clear_receive) notify_receive_room();
}

void Uart16550::write_mcr(uint8_t value) {
  const uint8_t before = modem_lines();
  const bool was_loop = (mcr_ & kMcrLoop) != 0;
  mcr_ = static_cast<uint8_t>(value & kMcrMask);
  update_modem_lines(before);
  update_irq();
  if (was_loop && (mcr_ & kMcrLoop) == 0) notify_receive_room();
}

void Uart16550::set_modem_inputs(uint8_t msr_lines) {
  const uint8_t before = modem_lines();
  external_lines_ = static_cast<uint8_t>(msr_lines & (kMsrCts | kMsrDsr | kMsrRi | kMsrDcd));
  update_modem_lines(before);
  update_irq();
}

// Datasheet 8.6: in loopback mode DTR, RTS, OUT1 and OUT2 drive DSR, CTS, RI and DCD.
uint8_t Uart16550::modem_lines() const {
  if ((mcr_ & kMcrLoop) == 0) return external_lines_;
  uint8_t lines = 0;
  if (mcr_ & kMcrDtr) lines |= kMsrDsr;
  if (mcr_ & kMcrRts) lines |= kMsrCts;
  if (mcr_ & kMcrOut1) lines |= kMsrRi;
  if (mcr_ & kMcrOut2) lines |= kMsrDcd;
  return lines;
}

// Datasheet 8.7: DCTS, DDSR and DDCD flag any change, TERI only RI going from on to off.
void Uart16550::update_modem_lines(uint8_t before) {
  const uint8_t after = modem_lines();
  const uint8_t changed = before ^ after;
  if (changed & kMsrCts) msr_deltas_ |= kMsrDeltaCts;
  if (changed & kMsrDsr) msr_deltas_ |= kMsrDeltaDsr;
  if (changed & kMsrDcd) msr_deltas_ |= kMsrDeltaDcd;
  if ((before & kMsrRi) != 0 && (after & kMsrRi) == 0) msr_deltas_ |= kMsrTrailingRi;
}

void Uart16550::transmit(uint8_t byte) {
  // Writing the THR clears a THRE interrupt (datasheet 8.4); the byte leaves at once, so the
  // holding register is empty again and the interrupt is raised anew.
  thre_pending_ = false;
  if ((mcr_ & kMcrLoop) != 0) {
    push_received(byte);  // datasheet 8.6: the transmitter output loops back to the receiver
    restart_timeout();
  } else {
    ++metrics_.tx_bytes;
    if (backend_ != nullptr) backend_->transmit(byte);
  }
  thre_pending_ = true;
  update_irq();
}

void Uart16550::push_received(uint8_t byte) {
  if (rx_count_ >= receive_capacity()) {
    // Datasheet 8.2 (OE): the character in the shift register is lost.
    lsr_errors_ |= kLsrOverrun;
    ++metrics_.overruns;
    return;
  }
  const unsigned slot = (rx_head_ + rx_count_) % kFifoSize;
  rx_[slot] = byte;
  rx_break_ &= static_cast<uint16_t>(~(1u << slot));
  ++rx_count_;
  ++metrics_.rx_bytes;
}

// Datasheet 8.2: BI is revealed when the break's character is at the top of the FIFO; bit 7
// (FIFO mode) says some character in the FIFO has an error.
uint8_t Uart16550::line_errors() const {
  uint8_t errors = lsr_errors_;
  if (top_has_break()) errors |= kLsrBreak;
  if (fifo_enabled() && rx_break_ != 0) errors |= kLsrFifoError;
  return errors;
}

// Datasheet 8.2 (BI): a break loads one 0 character into the FIFO.
bool Uart16550::receive_break() {
  if ((mcr_ & kMcrLoop) != 0 || rx_count_ >= receive_capacity()) return false;
  const unsigned slot = (rx_head_ + rx_count_) % kFifoSize;
  push_received(0);
  rx_break_ |= static_cast<uint16_t>(1u << slot);
  ++metrics_.breaks;
  restart_timeout();
  update_irq();
  return true;
}

size_t Uart16550::receive(std::span<const uint8_t> bytes) {
  if ((mcr_ & kMcrLoop) != 0) return 0;  // the serial input is disconnected in loopback
  const size_t room = receive_capacity() - std::min<size_t>(rx_count_, receive_capacity());
  const size_t taken = std::min(room, bytes.size());
  for (size_t i = 0; i < taken; ++i) push_received(bytes[i]);
  if (taken > 0) {
    restart_timeout();
    update_irq();
  }
  return taken;
}

uint8_t Uart16550::read_rbr() {
  if (rx_count_ == 0) return 0;
  const uint8_t byte = rx_[rx_head_];
  rx_break_ &= static_cast<uint16_t>(~(1u << rx_head_));
  rx_head_ = static_cast<uint8_t>((rx_head_ + 1) % kFifoSize);
  --rx_count_;
  timeout_pending_ = false;
  restart_timeout();
  update_irq();
  notify_receive_room();
  return byte;
}

// Datasheet Table IV: priorities, highest first.
uint8_t Uart16550::pending_interrupt() const {
  if ((ier_ & kIerLineStatus) != 0 && (lsr_errors_ != 0 || top_has_break())) {
    return kIirLineStatus;
  }
  if ((ier_ & kIerReceivedData) != 0 && rx_count_ > 0) {
    const unsigned trigger = fifo_enabled() ? kTriggerLevels[fcr_ >> kFcrTriggerShift] : 1;
    if (rx_count_ >= trigger) return kIirReceivedData;
    if (timeout_pending_) return kIirCharTimeout;
  }
  if ((ier_ & kIerThrEmpty) != 0 && thre_pending_) return kIirThrEmpty;
  if ((ier_ & kIerModemStatus) != 0 && msr_deltas_ != 0) return kIirModemStatus;
  return kIirNoInterrupt;
}

// On PC serial adapters OUT2 enables the IRQ driver; in loopback mode the OUT pins are forced
// inactive (datasheet 8.6), so no interrupt reaches the bus.
void Uart16550::update_irq() {
  const bool level =
      pending_interrupt() != kIirNoInterrupt && (mcr_ & kMcrOut2) != 0 && (mcr_ & kMcrLoop) == 0;
  if (level == irq_.level()) return;
  if (level) ++metrics_.interrupts;
  irq_.set(level);
}

// Datasheet 8.4 (character timeout): with FIFOs on, a timeout is indicated when the receive
// FIFO holds a character and nothing was received or read for four character times. Only
// armed while that interrupt is enabled.
uint64_t Uart16550::timeout_ns() const {
  const uint64_t bits = 1 + 5 + (lcr_ & kLcrWordLengthMask) + ((lcr_ & kLcrParityEnable) ? 1 : 0) +
                        ((lcr_ & kLcrStopBits) ? 2 : 1);
  const uint64_t divisor = divisor_ == 0 ? 0x10000 : divisor_;
  return 4 * bits * divisor * 1'000'000'000 / kBaudBase;
}

void Uart16550::restart_timeout() {
  timers_.cancel(timeout_timer_);
  update_timeout();
}

void Uart16550::update_timeout() {
  const bool wanted =
      fifo_enabled() && (ier_ & kIerReceivedData) != 0 && rx_count_ > 0 && !timeout_pending_;
  if (!wanted) {
    timers_.cancel(timeout_timer_);
  } else if (!timeout_timer_.armed()) {
    timers_.arm(timeout_timer_, timers_.now_ns() + timeout_ns());
  }
}

void Uart16550::on_timeout() {
  if (fifo_enabled() && rx_count_ > 0) timeout_pending_ = true;
  update_irq();
}

}  // namespace cella::devices
