// Fuzzes the interrupt controllers with hostile register sequences: two local APICs on an
// APIC bus (xAPIC page, x2APIC and other MSRs, LINT pins, the CPU's acknowledge cycle), an
// IOAPIC behind the GSI router, and time moving on a ManualClock, with snapshot round trips
// in between. Fresh state per input; nothing may crash, hang or trip a sanitizer.
#include <array>
#include <cstdint>
#include <memory>

#include "devices/interrupt_router.h"
#include "devices/ioapic/ioapic.h"
#include "devices/lapic/apic_bus.h"
#include "devices/lapic/lapic.h"
#include "fuzz/fuzz_input.h"

namespace {

using namespace cella;
using namespace cella::devices;

class Pic final : public ExtIntSource, public IsaIrqInput {
 public:
  bool interrupt_output() const override { return line_mask != 0; }
  uint8_t acknowledge() override {
    line_mask &= line_mask - 1;
    return 0x20;
  }
  void set_irq(unsigned line, bool level) override {
    if (line >= 16) __builtin_trap();
    if (level) line_mask |= 1u << line;
  }
  uint32_t line_mask = 0;
};

class Tsc final : public TscSource {
 public:
  explicit Tsc(const Clock& clock) : clock_(clock) {}
  uint64_t tsc() const override { return clock_.now_ns() * 2; }
  uint64_t tsc_hz() const override { return 2'000'000'000; }

 private:
  const Clock& clock_;
};

void access(Device& device, uint64_t offset, unsigned size, uint64_t value, bool write) {
  std::array<uint8_t, 8> data{};
  const std::span<uint8_t> bytes(data.data(), size);
  if (write) {
    fill_access(bytes, value);
    device.write(offset, bytes);
  } else {
    device.read(offset, bytes);
  }
}

template <class T>
void round_trip(T& device) {
  snapshot::StateWriter out;
  device.save(out);
  snapshot::StateReader in(out.data());
  if (!device.load(in).ok() || !in.at_end()) __builtin_trap();  // our own state must load
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzzing::FuzzInput input(data, size);
  ManualClock clock;
  TimerQueue timers(clock);
  Tsc tsc(clock);
  Pic pic;
  ApicBus bus;
  Ioapic ioapic(&bus);
  InterruptRouter router(&ioapic, &pic);
  std::array<std::unique_ptr<Lapic>, 2> cpus;
  for (uint32_t id = 0; id < 2; ++id) {
    cpus[id] = std::make_unique<Lapic>(LapicConfig{.apic_id = id,
                                                   .bsp = id == 0,
                                                   .timer_hz = 100'000'000 * (id + 1),
                                                   .eoi_broadcast_suppression = id == 1},
                                       timers, &bus, &pic, &tsc);
    bus.attach(*cpus[id]);
  }
  bus.attach(ioapic);

  for (int op = 0; op < 4096 && !input.done(); ++op) {
    Lapic& cpu = *cpus[input.u8() & 1];
    switch (input.u8() % 12) {
      case 0: {
        const uint64_t offset = input.u16() & 0xfff;
        const unsigned sz = input.access_size();
        access(cpu, offset, sz, input.u64(), true);
        break;
      }
      case 1: {
        const uint64_t offset = input.u16() & 0xfff;
        access(cpu, offset, input.access_size(), 0, false);
        break;
      }
      case 2: {
        static constexpr uint32_t kOthers[] = {0x1b, 0x6e0, 0x10, 0x0};
        const uint8_t pick = input.u8();
        const uint32_t index = pick < 0xf0 ? 0x800 + input.u8() : kOthers[pick & 3];
        if (cpu.owns_msr(index)) (void)cpu.write_msr(index, input.u64());
        break;
      }
      case 3:
        (void)cpu.read_msr(0x800 + input.u8());
        (void)cpu.read_msr(0x6e0);
        break;
      case 4: {
        const uint32_t ns = input.u32();
        clock.advance(ns >> (input.u8() & 31));
        timers.run_due();
        break;
      }
      case 5: {
        const uint64_t offset = input.u8() & 0x1f;
        const unsigned sz = input.access_size();
        access(ioapic, offset, sz, input.u64(), true);
        break;
      }
      case 6: {
        const uint64_t offset = input.u8() & 0x1f;
        access(ioapic, offset, input.access_size(), 0, false);
        break;
      }
      case 7: {
        const uint8_t gsi = input.u8() % 32;
        const bool level = (input.u8() & 1) != 0;
        router.set_gsi(gsi, level);
        break;
      }
      case 8:
        if (cpu.has_interrupt()) (void)cpu.acknowledge();
        cpu.take_nmi();
        cpu.take_smi();
        cpu.take_init();
        (void)cpu.take_sipi();
        break;
      case 9: {
        const uint8_t pins = input.u8();
        cpu.set_lint(pins & 1, (pins & 2) != 0);
        break;
      }
      case 10:
        cpu.set_cr8(input.u8());
        (void)cpu.cr8();
        break;
      case 11:
        round_trip(cpu);
        round_trip(ioapic);
        break;
    }
  }
  return 0;
}
