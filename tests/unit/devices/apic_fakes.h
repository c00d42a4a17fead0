// Peers of the local APIC and IOAPIC for their tests: a router that records messages and
// EOI broadcasts, an 8259 stand-in, and a TSC that runs at 3 GHz on a ManualClock.
#pragma once

#include <vector>

#include "base/clock.h"
#include "devices/lapic/apic_message.h"

namespace cella::devices {

class RecordingRouter final : public ApicRouter {
 public:
  void send(const ApicMessage& message) override { messages.push_back(message); }
  void broadcast_eoi(uint8_t vector) override { eois.push_back(vector); }
  std::vector<ApicMessage> messages;
  std::vector<uint8_t> eois;
};

class FakePic final : public ExtIntSource {
 public:
  bool interrupt_output() const override { return output; }
  uint8_t acknowledge() override {
    ++acknowledged;
    output = false;
    return vector;
  }
  bool output = false;
  uint8_t vector = 0x20;
  int acknowledged = 0;
};

class FakeTsc final : public TscSource {
 public:
  explicit FakeTsc(const Clock& clock) : clock_(clock) {}
  uint64_t tsc() const override { return clock_.now_ns() * 3 + 12345; }
  uint64_t tsc_hz() const override { return 3'000'000'000; }

 private:
  const Clock& clock_;
};

}  // namespace cella::devices
