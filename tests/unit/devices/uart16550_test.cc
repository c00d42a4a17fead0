#include "devices/uart16550/uart16550.h"

#include <gtest/gtest.h>

#include <string>

#include "devices/uart16550/uart16550_registers.h"
#include "tests/unit/devices/device_test_support.h"

namespace cella::devices {
namespace {

using namespace uart16550;
using testing::inb;
using testing::outb;

class StringBackend final : public CharBackend {
 public:
  void transmit(uint8_t byte) override { sent.push_back(static_cast<char>(byte)); }
  std::string sent;
};

struct UartTest : ::testing::Test {
  ManualClock clock;
  TimerQueue timers{clock};
  testing::RecordingSink sink;
  StringBackend backend;
  Uart16550 uart{timers, IrqLine(sink, Uart16550::kCom1Irq), &backend};

  bool irq() const { return sink.level(Uart16550::kCom1Irq); }
  void enable_fifo(uint8_t trigger_bits) {
    outb(uart, kIirFcr, static_cast<uint8_t>(kFcrEnable | kFcrClearReceive | trigger_bits));
  }
  void receive(std::string_view text) {
    ASSERT_EQ(uart.receive({reinterpret_cast<const uint8_t*>(text.data()), text.size()}),
              text.size());
  }
};

// The sequence of Linux's 8250 autoconfig(): scratch test via IER, loopback MSR test, then FIFO
// detection through IIR bits 7:6, then the 16550A variant checks that must all fail.
TEST_F(UartTest, LinuxAutoconfigFindsA16550A) {
  outb(uart, kIerDlm, 0);
  EXPECT_EQ(inb(uart, kIerDlm) & 0x0f, 0);
  outb(uart, kIerDlm, 0x0f);
  EXPECT_EQ(inb(uart, kIerDlm), 0x0f);
  outb(uart, kIerDlm, 0xff);
  EXPECT_EQ(inb(uart, kIerDlm), 0x0f);  // bits 7:4 are always 0 (no XScale UUE bit)
  outb(uart, kIerDlm, 0);
  outb(uart, kScr, 0xa5);
  EXPECT_EQ(inb(uart, kScr), 0xa5);

  outb(uart, kMcr, kMcrLoop | 0x0a);        // loopback with RTS and OUT2
  EXPECT_EQ(inb(uart, kMsr) & 0xf0, 0x90);  // CTS and DCD
  outb(uart, kMcr, 0);

  outb(uart, kLcr, 0);
  outb(uart, kIirFcr, kFcrEnable);
  EXPECT_EQ(inb(uart, kIirFcr) >> 6, 3);  // FIFOs present: a 16550A
  // EFR probes with LCR 0x80 and 0xbf read the IIR, which is not 0.
  outb(uart, kLcr, 0xbf);
  EXPECT_NE(inb(uart, kIirFcr), 0);
  // The TI16750 probe: IIR bit 5 never reports a 64-byte FIFO.
  outb(uart, kLcr, 0);
  outb(uart, kIirFcr, kFcrEnable | 0x20);
  EXPECT_EQ(inb(uart, kIirFcr) >> 5, 6);
  outb(uart, kLcr, kLcrDlab);
  outb(uart, kIirFcr, kFcrEnable | 0x20);
  EXPECT_EQ(inb(uart, kIirFcr) >> 5, 6);
  outb(uart, kLcr, 0);
  outb(uart, kIirFcr, 0);
  EXPECT_EQ(inb(uart, kIirFcr), kIirNoInterrupt);
}

// Linux's size_fifo(): in loopback at a high baud rate, writes bytes and counts what the
// receive FIFO kept.
TEST_F(UartTest, LoopbackFillsTheSixteenByteFifoAndFlagsOverrun) {
  enable_fifo(0);
  outb(uart, kMcr, kMcrLoop);
  for (int i = 0; i < 20; ++i) outb(uart, kRbrThrDll, static_cast<uint8_t>(i));
  EXPECT_TRUE(backend.sent.empty());
  int count = 0;
  uint8_t lsr = inb(uart, kLsr);
  EXPECT_TRUE(lsr & kLsrOverrun);
  while (inb(uart, kLsr) & kLsrDataReady) {
    EXPECT_EQ(inb(uart, kRbrThrDll), count);
    ++count;
  }
  EXPECT_EQ(count, 16);
  EXPECT_EQ(uart.metrics().overruns, 4u);
}

TEST_F(UartTest, DivisorLatchIsBehindDlab) {
  outb(uart, kLcr, kLcrDlab | 0x03);
  outb(uart, kRbrThrDll, 0x01);
  outb(uart, kIerDlm, 0x00);
  EXPECT_EQ(inb(uart, kRbrThrDll), 0x01);
  EXPECT_EQ(inb(uart, kIerDlm), 0x00);
  outb(uart, kLcr, 0x03);
  EXPECT_EQ(inb(uart, kIerDlm), 0);  // IER, untouched by the DLM write
  outb(uart, kRbrThrDll, 'A');
  EXPECT_EQ(backend.sent, "A");
  EXPECT_EQ(inb(uart, kLcr), 0x03);
}

// Linux's serial8250_do_startup THRE test: THRE must be re-asserted every time ETBEI is set.
TEST_F(UartTest, ThreInterruptIsRaisedEachTimeItIsEnabled) {
  outb(uart, kMcr, kMcrOut2);
  outb(uart, kIerDlm, kIerThrEmpty);
  EXPECT_TRUE(irq());
  EXPECT_EQ(inb(uart, kIirFcr), kIirThrEmpty);
  EXPECT_FALSE(irq());  // the IIR read cleared it
  EXPECT_EQ(inb(uart, kIirFcr), kIirNoInterrupt);
  outb(uart, kIerDlm, 0);
  outb(uart, kIerDlm, kIerThrEmpty);
  // The TXEN test that follows it: with the transmitter empty, IIR must not read "none".
  EXPECT_TRUE(inb(uart, kLsr) & kLsrTransmitterEmpty);
  EXPECT_EQ(inb(uart, kIirFcr), kIirThrEmpty);
  // Interrupt-driven transmit: every write empties the THR again.
  for (char c : std::string("hi")) {
    outb(uart, kRbrThrDll, static_cast<uint8_t>(c));
    EXPECT_TRUE(irq());
  }
  EXPECT_EQ(backend.sent, "hi");
  EXPECT_EQ(uart.metrics().tx_bytes, 2u);
}

TEST_F(UartTest, Out2GatesTheInterruptLine) {
  outb(uart, kIerDlm, kIerThrEmpty);
  EXPECT_FALSE(irq());
  EXPECT_EQ(inb(uart, kIirFcr) & 0x0f, kIirThrEmpty);  // pending, but not driven
  outb(uart, kIerDlm, 0);
  outb(uart, kIerDlm, kIerThrEmpty);
  outb(uart, kMcr, kMcrOut2);
  EXPECT_TRUE(irq());
  outb(uart, kMcr, kMcrOut2 | kMcrLoop);
  EXPECT_FALSE(irq());
}

TEST_F(UartTest, ReceiveTriggerLevelAndCharacterTimeout) {
  outb(uart, kLcr, 0x03);  // 8N1
  outb(uart, kMcr, kMcrOut2);
  enable_fifo(2 << kFcrTriggerShift);  // 8 bytes
  outb(uart, kIerDlm, kIerReceivedData);
  receive("abc");
  EXPECT_FALSE(irq());
  EXPECT_EQ(inb(uart, kIirFcr), kIirFifosEnabled | kIirNoInterrupt);
  // Four character times at 9600 baud 8N1: 4 * 10 * 12 / 115200 s.
  const uint64_t timeout = 4ull * 10 * 12 * 1'000'000'000 / 115200;
  ASSERT_EQ(timers.next_deadline_ns(), timeout);
  clock.advance(timeout - 1);
  timers.run_due();
  EXPECT_FALSE(irq());
  clock.advance(1);
  timers.run_due();
  EXPECT_TRUE(irq());
  EXPECT_EQ(inb(uart, kIirFcr), kIirFifosEnabled | kIirCharTimeout);
  EXPECT_EQ(inb(uart, kRbrThrDll), 'a');
  EXPECT_FALSE(irq());  // reading restarts the timeout
  receive("defghi");    // 8 bytes now: the trigger level
  EXPECT_TRUE(irq());
  EXPECT_EQ(inb(uart, kIirFcr), kIirFifosEnabled | kIirReceivedData);
  std::string got;
  while (inb(uart, kLsr) & kLsrDataReady) got.push_back(static_cast<char>(inb(uart, kRbrThrDll)));
  EXPECT_EQ(got, "bcdefghi");
  EXPECT_FALSE(irq());
  EXPECT_FALSE(timers.next_deadline_ns().has_value());  // nothing left to time out
}

TEST_F(UartTest, InterruptPriorities) {
  outb(uart, kMcr, kMcrOut2);
  outb(uart, kIerDlm, kIerMask);
  // Modem status is the lowest: THRE (just enabled) wins over it.
  uart.set_modem_inputs(kMsrDsr);
  EXPECT_EQ(inb(uart, kIirFcr), kIirThrEmpty);
  EXPECT_EQ(inb(uart, kIirFcr), kIirModemStatus);
  EXPECT_EQ(inb(uart, kMsr), kMsrDsr | kMsrDeltaCts | kMsrDeltaDcd);
  EXPECT_EQ(inb(uart, kIirFcr), kIirNoInterrupt);
  // Received data beats THRE, line status beats received data.
  outb(uart, kRbrThrDll, 'x');  // THRE pending again
  receive("1");
  EXPECT_EQ(inb(uart, kIirFcr), kIirReceivedData);
  outb(uart, kMcr, kMcrOut2 | kMcrLoop);
  outb(uart, kRbrThrDll, '2');  // the one-byte RBR is full: overrun
  EXPECT_EQ(inb(uart, kIirFcr), kIirLineStatus);
  EXPECT_EQ(inb(uart, kLsr) & kLsrOverrun, kLsrOverrun);
  EXPECT_EQ(inb(uart, kIirFcr), kIirReceivedData);
  EXPECT_EQ(inb(uart, kRbrThrDll), '1');
  EXPECT_EQ(inb(uart, kIirFcr), kIirThrEmpty);
}

TEST_F(UartTest, FlowControlKeepsBytesTheFifoCannotHold) {
  CharInputQueue input(uart);
  enable_fifo(0);
  std::string text;
  for (int i = 0; i < 100; ++i) text.push_back(static_cast<char>('!' + i % 90));
  input.push({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  EXPECT_EQ(input.pending(), 100u - 16);
  std::string got;
  while (inb(uart, kLsr) & kLsrDataReady) got.push_back(static_cast<char>(inb(uart, kRbrThrDll)));
  EXPECT_EQ(got, text);
  EXPECT_EQ(input.pending(), 0u);
  EXPECT_EQ(uart.metrics().rx_bytes, 100u);
  // Without FIFOs one byte at a time; loopback disconnects the input, ending it reconnects.
  outb(uart, kIirFcr, 0);
  outb(uart, kMcr, kMcrLoop);
  input.push({reinterpret_cast<const uint8_t*>("xy"), 2});
  EXPECT_EQ(input.pending(), 2u);
  outb(uart, kMcr, 0);
  EXPECT_EQ(input.pending(), 1u);
  EXPECT_EQ(inb(uart, kRbrThrDll), 'x');
  EXPECT_EQ(inb(uart, kRbrThrDll), 'y');
  // A reset empties the receive buffer, and what waited in the queue flows in.
  input.push({reinterpret_cast<const uint8_t*>("pq"), 2});
  EXPECT_EQ(input.pending(), 1u);
  uart.reset();
  EXPECT_EQ(input.pending(), 0u);
  EXPECT_EQ(inb(uart, kRbrThrDll), 'q');
}

// A break from the backend (the serial console's SysRq): a 0 character whose BI shows in the
// LSR when it reaches the top of the FIFO, read as Linux's serial8250_rx_chars() does.
TEST_F(UartTest, BreakIsReportedWithItsCharacter) {
  CharInputQueue input(uart);
  outb(uart, kMcr, kMcrOut2);
  enable_fifo(0);
  outb(uart, kIerDlm, kIerReceivedData | kIerLineStatus);
  input.push({reinterpret_cast<const uint8_t*>("a"), 1});
  input.push_break();
  input.push({reinterpret_cast<const uint8_t*>("h"), 1});
  EXPECT_EQ(inb(uart, kIirFcr) & 0x0f, kIirReceivedData);  // the break is not on top yet
  uint8_t lsr = inb(uart, kLsr);
  EXPECT_EQ(lsr & (kLsrBreak | kLsrFifoError), kLsrFifoError);
  EXPECT_EQ(inb(uart, kRbrThrDll), 'a');
  EXPECT_EQ(inb(uart, kIirFcr) & 0x0f, kIirLineStatus);
  lsr = inb(uart, kLsr);
  EXPECT_EQ(lsr & (kLsrBreak | kLsrDataReady), kLsrBreak | kLsrDataReady);
  EXPECT_EQ(inb(uart, kRbrThrDll), 0);
  lsr = inb(uart, kLsr);
  EXPECT_EQ(lsr & (kLsrBreak | kLsrFifoError), 0);
  EXPECT_EQ(inb(uart, kRbrThrDll), 'h');
  EXPECT_EQ(uart.metrics().breaks, 1u);
  // A break waits in the queue while the FIFO is full, in order.
  for (int i = 0; i < 16; ++i) input.push({reinterpret_cast<const uint8_t*>("x"), 1});
  input.push_break();
  EXPECT_EQ(input.pending(), 1u);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(inb(uart, kRbrThrDll), 'x');
  EXPECT_EQ(input.pending(), 0u);
  EXPECT_TRUE(inb(uart, kLsr) & kLsrBreak);
}

TEST_F(UartTest, ModemDeltasAndTrailingEdgeRing) {
  outb(uart, kMcr, kMcrLoop | kMcrOut1);
  inb(uart, kMsr);
  outb(uart, kMcr, kMcrLoop);
  EXPECT_EQ(inb(uart, kMsr) & kMsrDeltas, kMsrTrailingRi);
  outb(uart, kMcr, kMcrLoop | kMcrDtr);
  EXPECT_EQ(inb(uart, kMsr), kMsrDeltaDsr | kMsrDsr);
  EXPECT_EQ(inb(uart, kMsr), kMsrDsr);
}

TEST_F(UartTest, SnapshotRoundTripKeepsFifoRegistersAndTimeout) {
  outb(uart, kLcr, kLcrDlab);
  outb(uart, kRbrThrDll, 3);
  outb(uart, kLcr, 0x1b);
  outb(uart, kScr, 0x42);
  outb(uart, kMcr, kMcrOut2 | kMcrDtr);
  enable_fifo(3 << kFcrTriggerShift);
  outb(uart, kIerDlm, kIerReceivedData | kIerLineStatus);
  receive("snap");
  clock.advance(1000);

  ManualClock clock2;
  clock2.set(5'000'000);
  TimerQueue timers2(clock2);
  testing::RecordingSink sink2;
  StringBackend backend2;
  Uart16550 copy(timers2, IrqLine(sink2, 4), &backend2);
  testing::round_trip(uart, copy);
  EXPECT_EQ(inb(copy, kLcr), 0x1b);
  EXPECT_EQ(inb(copy, kScr), 0x42);
  EXPECT_EQ(inb(copy, kMcr), kMcrOut2 | kMcrDtr);
  EXPECT_EQ(inb(copy, kIerDlm), kIerReceivedData | kIerLineStatus);
  ASSERT_TRUE(timers2.next_deadline_ns().has_value());
  EXPECT_EQ(*timers2.next_deadline_ns() - clock2.now_ns(), *timers.next_deadline_ns() - 1000);
  clock2.advance(2'000'000);
  timers2.run_due();
  EXPECT_TRUE(sink2.level(4));
  EXPECT_EQ(inb(copy, kIirFcr), kIirFifosEnabled | kIirCharTimeout);
  std::string got;
  while (inb(copy, kLsr) & kLsrDataReady) got.push_back(static_cast<char>(inb(copy, kRbrThrDll)));
  EXPECT_EQ(got, "snap");
  outb(copy, kLcr, 0x1b | kLcrDlab);
  EXPECT_EQ(inb(copy, kRbrThrDll), 3);
}

TEST_F(UartTest, LoadRejectsImpossibleState) {
  snapshot::StateWriter out;
  uart.save(out);
  std::vector<uint8_t> bytes = out.data();
  // The rx count follows name (2 + 9 bytes), version, length and 10 bytes of registers.
  const size_t rx_count_at = 2 + 9 + 4 + 8 + 10;
  bytes[rx_count_at] = 200;
  snapshot::StateReader in(bytes);
  Uart16550 copy(timers, IrqLine(), nullptr);
  auto loaded = copy.load(in);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message().find("out of range"), std::string::npos);
}

}  // namespace
}  // namespace cella::devices
