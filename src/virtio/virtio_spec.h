// The transport-independent numbers of virtio 1.2 (OASIS): device types, device status bits
// and the reserved feature bits.
#pragma once

#include <cstdint>

namespace cella::virtio {

// Virtio 1.2 5 ("Device Types"): the device ID; the PCI device ID is 0x1040 + this (4.1.2).
enum class DeviceType : uint16_t {
  kNet = 1,
  kBlock = 2,
  kConsole = 3,
  kEntropy = 4,
};

// Virtio 1.2 2.1: device status field.
namespace status {
inline constexpr uint8_t kAcknowledge = 1;
inline constexpr uint8_t kDriver = 2;
inline constexpr uint8_t kDriverOk = 4;
inline constexpr uint8_t kFeaturesOk = 8;
inline constexpr uint8_t kDeviceNeedsReset = 64;
inline constexpr uint8_t kFailed = 128;
}  // namespace status

// Virtio 1.2 6 ("Reserved Feature Bits"): feature bit numbers.
namespace feature {
inline constexpr unsigned kIndirectDescriptors = 28;  // VIRTIO_F_INDIRECT_DESC
inline constexpr unsigned kEventIndex = 29;           // VIRTIO_F_EVENT_IDX
inline constexpr unsigned kVersion1 = 32;             // VIRTIO_F_VERSION_1
}  // namespace feature

constexpr uint64_t feature_bit(unsigned bit) {
  return uint64_t{1} << bit;
}

}  // namespace cella::virtio
