// The APIC bus of one machine: carries IPIs and IOAPIC interrupts to the local APICs whose
// destination matches (SDM Vol. 3A 11.6.2), picks the lowest-priority target, and carries EOIs
// of level-triggered vectors to the IOAPICs (SDM Vol. 3A 11.8.5).
#pragma once

#include <cstdint>
#include <vector>

#include "devices/lapic/apic_message.h"

namespace cella::devices {

class Lapic;

// An IOAPIC, told that a local APIC retired a level-triggered vector.
class EoiListener {
 public:
  virtual ~EoiListener() = default;
  virtual void end_of_interrupt(uint8_t vector) = 0;
};

class ApicBus final : public ApicRouter {
 public:
  struct Metrics {
    uint64_t messages = 0;
    uint64_t undelivered = 0;  // messages no local APIC accepted
  };

  void attach(Lapic& lapic) { lapics_.push_back(&lapic); }
  void attach(EoiListener& listener) { eoi_listeners_.push_back(&listener); }

  void send(const ApicMessage& message) override;
  void broadcast_eoi(uint8_t vector) override;

  const Metrics& metrics() const { return metrics_; }

 private:
  bool addressed(const Lapic& lapic, const ApicMessage& message) const;

  std::vector<Lapic*> lapics_;
  std::vector<EoiListener*> eoi_listeners_;
  Metrics metrics_;
};

}  // namespace cella::devices
