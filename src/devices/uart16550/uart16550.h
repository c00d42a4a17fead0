// The NS16550A UART (TI/National PC16550D datasheet), as COM1 on a PC: port 0x3f8, IRQ 4.
// Registers including the DLAB divisor latch, 16-byte FIFOs with receive trigger levels and the
// character timeout, prioritised interrupts (IIR), modem control with loopback, scratch.
// Transmitted bytes go to a CharBackend at once (no baud-rate pacing); received bytes come
// from the backend with flow control (the CharFrontend side), so none is ever dropped while
// the guest is slow. Linux's 8250 driver identifies it as a 16550A.
#pragma once

#include <array>
#include <cstdint>

#include "devices/chardev.h"
#include "devices/device.h"
#include "devices/irq.h"
#include "devices/timer_queue.h"

namespace cella::devices {

class Uart16550 final : public Device, public CharFrontend {
 public:
  static constexpr uint16_t kCom1Port = 0x3f8;
  static constexpr uint32_t kCom1Irq = 4;

  struct Metrics {
    uint64_t tx_bytes = 0;
    uint64_t rx_bytes = 0;
    uint64_t overruns = 0;    // bytes lost in loopback mode with a full receive buffer
    uint64_t breaks = 0;      // break conditions received from the backend
    uint64_t interrupts = 0;  // rising edges of the IRQ line
  };

  // `backend` may be null (transmitted bytes are then discarded).
  Uart16550(TimerQueue& timers, IrqLine irq, CharBackend* backend);

  std::string_view name() const override { return "uart16550"; }
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;
  void reset() override;
  void save(snapshot::StateWriter& out) const override;
  Result<void> load(snapshot::StateReader& in) override;

  size_t receive(std::span<const uint8_t> bytes) override;
  bool receive_break() override;
  // The modem status inputs the backend reports (a connected terminal: CTS, DSR and DCD on).
  void set_modem_inputs(uint8_t msr_lines);

  const Metrics& metrics() const { return metrics_; }

 private:
  uint8_t read_register(uint64_t offset);
  void write_register(uint64_t offset, uint8_t value);
  void write_fcr(uint8_t value);
  void write_mcr(uint8_t value);
  void transmit(uint8_t byte);
  uint8_t read_rbr();
  void push_received(uint8_t byte);
  uint8_t line_errors() const;
  bool top_has_break() const { return rx_count_ > 0 && (rx_break_ >> rx_head_ & 1) != 0; }
  uint8_t pending_interrupt() const;
  uint8_t modem_lines() const;
  void update_modem_lines(uint8_t before);
  void update_irq();
  void restart_timeout();
  void update_timeout();
  void on_timeout();
  size_t receive_capacity() const;
  bool fifo_enabled() const;
  uint64_t timeout_ns() const;  // four character times at the current line settings

  TimerQueue& timers_;
  IrqLine irq_;
  CharBackend* backend_;
  Timer timeout_timer_;
  Metrics metrics_;

  // Registers (datasheet section 8).
  uint8_t ier_ = 0;
  uint8_t fcr_ = 0;  // enable bit and trigger level as last written
  uint8_t lcr_ = 0;
  uint8_t mcr_ = 0;
  uint8_t lsr_errors_ = 0;
  uint8_t msr_deltas_ = 0;
  uint8_t scr_ = 0;
  uint16_t divisor_ = 12;       // 9600 baud, as after a PC BIOS
  uint8_t external_lines_ = 0;  // CTS/DSR/RI/DCD from the backend, in MSR bit positions
  // The receive FIFO (one byte deep, the RBR, with FIFOs disabled).
  std::array<uint8_t, 16> rx_{};
  uint8_t rx_head_ = 0;
  uint8_t rx_count_ = 0;
  uint16_t rx_break_ = 0;         // FIFO slots holding the 0 byte of a received break
  bool thre_pending_ = true;      // THR empty interrupt latched, cleared by IIR read / THR write
  bool timeout_pending_ = false;  // character timeout indication (FIFO mode)
};

}  // namespace cella::devices
