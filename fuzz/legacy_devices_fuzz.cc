// Random register access sequences against the legacy PC devices (16550A UART, 8254 PIT with
// port 0x61, CMOS RTC, dual 8259A PIC with ELCR, i8042 with port 0x92), wired as on a PC:
// their IRQ lines drive the PIC. Each input starts from fresh devices. Besides crashes and
// hangs it checks that every snapshot loads into a fresh device and saves back identically.
//
// Input: a sequence of operations; each starts with a byte `op`: bits 2-0 pick the device,
// bits 5-3 the operation, bits 7-6 an access size of 1 << n bytes.
//   0 write: offset byte, then the value bytes     4 UART receive: count byte, then bytes
//                                                    (count bit 7: a break instead)
//   1 read: offset byte                            5 PIC input: byte (bit 7 level, 3-0 line)
//   2 advance time: 16-bit value * 997 ns          6 INTA cycle, if the PIC's output is high
//   3 advance time: byte * 100 ms                  7 snapshot round trip of the device
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <vector>

#include "devices/chardev.h"
#include "devices/i8042/i8042.h"
#include "devices/i8042/port92.h"
#include "devices/pic8259/dual_pic.h"
#include "devices/pit8254/pit8254.h"
#include "devices/pit8254/port61.h"
#include "devices/rtc/cmos_rtc.h"
#include "devices/uart16550/uart16550.h"

namespace {

using namespace cella;
using namespace cella::devices;

class PicSink final : public InterruptSink {
 public:
  explicit PicSink(DualPic& pic) : pic_(pic) {}
  void set_gsi(uint32_t gsi, bool level) override { pic_.set_irq(gsi, level); }

 private:
  DualPic& pic_;
};

class NullBackend final : public CharBackend {
 public:
  void transmit(uint8_t) override {}
};

struct Machine {
  ManualClock clock{1'700'000'000ull * 1'000'000'000};
  TimerQueue timers{clock};
  DualPic pic;
  PicSink sink{pic};
  NullBackend backend;
  Uart16550 uart{timers, IrqLine(sink, 4), &backend};
  CharInputQueue serial_input{uart};
  Pit8254 pit{timers, IrqLine(sink, 0)};
  SystemControlPortB port61{timers, pit};
  CmosRtc rtc{timers, IrqLine(sink, 8)};
  I8042 kbc{IrqLine(sink, 1), IrqLine(sink, 12)};
  SystemControlPortA port92{kbc};

  struct Entry {
    Device* device;
    uint64_t span;  // offsets the device decodes (the fuzzer also goes a little beyond)
  };
  Entry entry(unsigned index) {
    const Entry entries[] = {{&uart, 8}, {&pit, 4}, {&port61, 1}, {&rtc, 2},
                             {&pic, 6},  {&kbc, 5}, {&port92, 1}, {&uart, 8}};
    return entries[index & 7];
  }
};

std::vector<uint8_t> saved(const Device& device) {
  snapshot::StateWriter out;
  device.save(out);
  return out.data();
}

// Loads `device`'s snapshot into a fresh instance on the same clock and compares.
void check_round_trip(Machine& m, unsigned index) {
  const std::vector<uint8_t> bytes = saved(*m.entry(index).device);
  snapshot::StateReader in(bytes);
  PicSink sink(m.pic);
  std::unique_ptr<Device> fresh;
  std::unique_ptr<Pit8254> pit;
  std::unique_ptr<I8042> kbc;
  switch (index & 7) {
    case 1:
      fresh = std::make_unique<Pit8254>(m.timers, IrqLine());
      break;
    case 2:
      pit = std::make_unique<Pit8254>(m.timers, IrqLine());
      fresh = std::make_unique<SystemControlPortB>(m.timers, *pit);
      break;
    case 3:
      fresh = std::make_unique<CmosRtc>(m.timers, IrqLine());
      break;
    case 4:
      fresh = std::make_unique<DualPic>();
      break;
    case 5:
      fresh = std::make_unique<I8042>(IrqLine(), IrqLine());
      break;
    case 6:
      kbc = std::make_unique<I8042>(IrqLine(), IrqLine());
      fresh = std::make_unique<SystemControlPortA>(*kbc);
      break;
    default:
      fresh = std::make_unique<Uart16550>(m.timers, IrqLine(), nullptr);
      break;
  }
  const Result<void> loaded = fresh->load(in);
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s: %s\n", fresh->name().data(), loaded.error().message().c_str());
    __builtin_trap();
  }
  const std::vector<uint8_t> again = saved(*fresh);
  if (!in.at_end() || again != bytes) {
    size_t at = 0;
    while (at < bytes.size() && at < again.size() && bytes[at] == again[at]) ++at;
    std::fprintf(stderr, "%s: the reloaded state saves differently from byte %zu\n",
                 fresh->name().data(), at);
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Machine m;
  size_t pos = 0;
  const auto next = [&]() -> uint8_t { return pos < size ? data[pos++] : 0; };
  int operations = 0;
  while (pos < size && ++operations < 4096) {
    const uint8_t op = next();
    const Machine::Entry target = m.entry(op & 7);
    const size_t width = size_t{1} << (op >> 6);
    switch ((op >> 3) & 7) {
      case 0: {
        const uint64_t offset = next() % (target.span + 2);
        std::vector<uint8_t> value(width);
        for (uint8_t& b : value) b = next();
        target.device->write(offset, value);
        break;
      }
      case 1: {
        std::vector<uint8_t> value(width);
        target.device->read(next() % (target.span + 2), value);
        break;
      }
      case 2: {
        const uint64_t ticks = next() | uint64_t{next()} << 8;
        m.clock.advance(ticks * 997);
        m.timers.run_due();
        break;
      }
      case 3:
        m.clock.advance(next() * 100'000'000ull);
        m.timers.run_due();
        break;
      case 4: {
        const uint8_t count = next();
        if (count & 0x80) {
          m.serial_input.push_break();
          break;
        }
        std::vector<uint8_t> bytes(count % 64);
        for (uint8_t& b : bytes) b = next();
        m.serial_input.push(bytes);
        break;
      }
      case 5: {
        const uint8_t input = next();
        m.pic.set_irq(input & 15, (input & 0x80) != 0);
        break;
      }
      case 6:
        if (m.pic.interrupt_output()) m.pic.acknowledge();
        break;
      default:
        check_round_trip(m, op & 7);
        break;
    }
  }
  for (unsigned i = 0; i < 7; ++i) check_round_trip(m, i);
  return 0;
}
