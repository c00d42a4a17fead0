// System control port A at 0x92 ("fast A20 and init", Intel 82371AB PIIX4 datasheet 4.1.14
// "PORT92"): bit 1 enables A20 (ORed with the keyboard controller's gate), a 0->1 transition
// of bit 0 resets the CPU. Both reach the machine through the I8042's callbacks.
#pragma once

#include <cstdint>

#include "devices/device.h"
#include "devices/i8042/i8042.h"

namespace cella::devices {

class SystemControlPortA final : public Device {
 public:
  static constexpr uint16_t kPort = 0x92;

  explicit SystemControlPortA(I8042& controller) : controller_(controller) {}

  std::string_view name() const override { return "port92"; }
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;
  void reset() override;
  void save(snapshot::StateWriter& out) const override;
  Result<void> load(snapshot::StateReader& in) override;

 private:
  I8042& controller_;
  uint8_t value_ = 0;
};

}  // namespace cella::devices
