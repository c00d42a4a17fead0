#include "devices/lapic/msi_message.h"

namespace cella::devices {

std::optional<ApicMessage> decode_msi(uint64_t address, uint32_t data) {
  if ((address & msi_address::kWindowMask) != msi_address::kWindow || (address >> 32) != 0) {
    return std::nullopt;
  }
  ApicMessage message;
  message.vector = static_cast<uint8_t>(data & msi_data::kVectorMask);
  message.mode = static_cast<DeliveryMode>((data >> msi_data::kDeliveryModeShift) &
                                           msi_data::kDeliveryModeMask);
  // SDM Vol. 3A 11.11.1: with RH set and physical destination mode, the hint has no effect;
  // with RH set and logical mode, the message goes to the lowest-priority processor among
  // those addressed, which is what a lowest-priority delivery mode says anyway.
  if ((address & msi_address::kRedirectionHint) != 0 &&
      (address & msi_address::kDestinationLogical) != 0 && message.mode == DeliveryMode::kFixed) {
    message.mode = DeliveryMode::kLowestPriority;
  }
  message.logical = (address & msi_address::kDestinationLogical) != 0;
  message.level_triggered = (data & msi_data::kTriggerLevel) != 0;
  message.assert_level = !message.level_triggered || (data & msi_data::kLevelAssert) != 0;
  message.destination = static_cast<uint32_t>((address >> msi_address::kDestinationShift) &
                                              msi_address::kDestinationMask);
  message.x2apic_format = false;  // an 8-bit destination: no interrupt remapping
  return message;
}

}  // namespace cella::devices
