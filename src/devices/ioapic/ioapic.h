// An 82093AA-style I/O APIC (Intel 82093AA I/O Advanced Programmable Interrupt Controller
// datasheet, 1996): 24 interrupt pins whose redirection table entries turn pin assertions into
// APIC messages on the ApicRouter, edge- or level-triggered, with remote IRR cleared by the
// local APICs' EOI broadcast. The guest reaches the registers through IOREGSEL/IOWIN in a
// small MMIO window (default base 0xfec00000).
#pragma once

#include <array>
#include <cstdint>

#include "devices/device.h"
#include "devices/lapic/apic_bus.h"
#include "devices/lapic/apic_message.h"

namespace cella::devices {

class Ioapic final : public Device, public EoiListener {
 public:
  static constexpr unsigned kPins = 24;
  static constexpr uint64_t kDefaultBase = 0xfec00000;
  static constexpr uint64_t kMmioSize = 0x1000;  // the 4 KiB the MADT's IOAPIC entry reserves

  struct Metrics {
    uint64_t interrupts_sent = 0;  // messages put on the APIC bus
    uint64_t eois_matched = 0;     // EOI broadcasts that cleared a remote IRR
    uint64_t edges_masked = 0;     // edges lost on a masked pin (datasheet 3.2.4, bit 16)
  };

  // `id` is the IOAPIC ID the MADT declares (datasheet 3.2.1: 4 bits).
  explicit Ioapic(ApicRouter* router, uint8_t id = 0);

  std::string_view name() const override { return "ioapic"; }
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;
  void reset() override;
  void save(snapshot::StateWriter& out) const override;
  Result<void> load(snapshot::StateReader& in) override;

  // The level of input pin `pin` (asserted or not; the wiring's polarity is the MADT's).
  void set_pin(unsigned pin, bool asserted);
  // EoiListener: a local APIC retired a level-triggered `vector`.
  void end_of_interrupt(uint8_t vector) override;

  uint64_t redirection_entry(unsigned pin) const { return redirection_.at(pin); }
  const Metrics& metrics() const { return metrics_; }

 private:
  uint32_t read_register(uint8_t index) const;
  void write_register(uint8_t index, uint32_t value);
  void write_redirection(unsigned pin, bool high, uint32_t value);
  void service_level(unsigned pin);
  void send(unsigned pin);

  ApicRouter* router_;
  uint8_t initial_id_;
  uint32_t id_ = 0;
  uint8_t select_ = 0;  // IOREGSEL
  std::array<uint64_t, kPins> redirection_{};
  std::array<bool, kPins> asserted_{};
  Metrics metrics_;
};

}  // namespace cella::devices
