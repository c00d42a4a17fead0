// Message signalled interrupts as the local APICs receive them: a PCI function's MSI or MSI-X
// write of `data` to `address` in the 0xFEExxxxx window is an interrupt message on the APIC
// bus (SDM Vol. 3A 11.11, "Message Signalled Interrupts").
#pragma once

#include <cstdint>
#include <optional>

#include "devices/lapic/apic_message.h"

namespace cella::devices {

// SDM Vol. 3A 11.11.1, Figure 11-24: the message address register.
namespace msi_address {
inline constexpr uint64_t kWindowMask = 0xfff00000;  // bits 31:20 must read 0FEEH
inline constexpr uint64_t kWindow = 0xfee00000;
inline constexpr unsigned kDestinationShift = 12;  // bits 19:12: destination ID
inline constexpr uint64_t kDestinationMask = 0xff;
inline constexpr uint64_t kRedirectionHint = 1u << 3;     // RH: lowest priority among the targets
inline constexpr uint64_t kDestinationLogical = 1u << 2;  // DM
}  // namespace msi_address

// SDM Vol. 3A 11.11.2, Figure 11-25: the message data register.
namespace msi_data {
inline constexpr uint32_t kVectorMask = 0xff;      // bits 7:0
inline constexpr unsigned kDeliveryModeShift = 8;  // bits 10:8
inline constexpr uint32_t kDeliveryModeMask = 0x7;
inline constexpr uint32_t kLevelAssert = 1u << 14;   // level for level-triggered messages
inline constexpr uint32_t kTriggerLevel = 1u << 15;  // trigger mode: 1 = level
}  // namespace msi_data

// The APIC bus message an MSI write stands for, or nullopt when the address is outside the
// interrupt window (such a write is a DMA to nowhere and is dropped).
std::optional<ApicMessage> decode_msi(uint64_t address, uint32_t data);

}  // namespace cella::devices
