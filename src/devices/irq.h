// Interrupt lines. A device raises and lowers an IrqLine; the line carries the level to an
// InterruptSink (the machine's routing: PIC and IOAPIC inputs) under a global system interrupt
// number (GSI, ACPI 6.5 5.2.13). Edge-triggered devices pulse the line. A line that is not
// connected does nothing, so devices are usable and testable standalone.
#pragma once

#include <cstdint>

namespace cella::devices {

class InterruptSink {
 public:
  virtual ~InterruptSink() = default;
  virtual void set_gsi(uint32_t gsi, bool level) = 0;
};

class IrqLine {
 public:
  IrqLine() = default;
  IrqLine(InterruptSink& sink, uint32_t gsi) : sink_(&sink), gsi_(gsi) {}

  void set(bool level) {
    level_ = level;
    if (sink_ != nullptr) sink_->set_gsi(gsi_, level);
  }
  void raise() { set(true); }
  void lower() { set(false); }
  void pulse() {
    set(true);
    set(false);
  }
  bool level() const { return level_; }
  uint32_t gsi() const { return gsi_; }

 private:
  InterruptSink* sink_ = nullptr;
  uint32_t gsi_ = 0;
  bool level_ = false;
};

}  // namespace cella::devices
