// The virtio PCI transport's registers (virtio 1.2 4.1): the vendor capabilities that locate
// the configuration structures, the common configuration structure's fields, and where Cella
// places each structure inside the function's memory BAR.
#pragma once

#include <cstdint>

namespace cella::virtio::pci_layout {

// Virtio 1.2 4.1.2: PCI vendor ID and the modern device IDs (0x1040 + device type).
inline constexpr uint16_t kVendorId = 0x1af4;
inline constexpr uint16_t kDeviceIdBase = 0x1040;
inline constexpr uint8_t kRevision = 1;  // 4.1.2.1: non-transitional devices have revision >= 1
// 4.1.2.1: a non-transitional device's subsystem device ID is 0x40 or higher (legacy drivers
// match a subsystem ID equal to the device type); Cella uses 0x40 + type.
inline constexpr uint16_t kSubsystemIdBase = 0x40;

// Virtio 1.2 4.1.4: struct virtio_pci_cap, a vendor-specific capability (ID 09h).
inline constexpr uint8_t kVendorCapabilityId = 0x09;
inline constexpr uint8_t kCapLength = 0x02;   // cap_len
inline constexpr uint8_t kCapCfgType = 0x03;  // cfg_type
inline constexpr uint8_t kCapBar = 0x04;
inline constexpr uint8_t kCapId = 0x05;
inline constexpr uint8_t kCapOffset = 0x08;        // le32
inline constexpr uint8_t kCapRegionLength = 0x0c;  // le32
inline constexpr uint8_t kCapSize = 16;
inline constexpr uint8_t kNotifyCapMultiplier = 0x10;  // 4.1.4.4: le32 notify_off_multiplier
inline constexpr uint8_t kNotifyCapSize = 20;
inline constexpr uint8_t kPciCfgCapData = 0x10;  // 4.1.4.9: u8 pci_cfg_data[4]
inline constexpr uint8_t kPciCfgCapSize = 20;

// Virtio 1.2 4.1.4: cfg_type values.
enum class CfgType : uint8_t {
  kCommon = 1,
  kNotify = 2,
  kIsr = 3,
  kDevice = 4,
  kPci = 5,
};

// Virtio 1.2 4.1.4.3: struct virtio_pci_common_cfg.
namespace common {
inline constexpr uint64_t kDeviceFeatureSelect = 0x00;  // le32 RW
inline constexpr uint64_t kDeviceFeature = 0x04;        // le32 RO
inline constexpr uint64_t kDriverFeatureSelect = 0x08;  // le32 RW
inline constexpr uint64_t kDriverFeature = 0x0c;        // le32 RW
inline constexpr uint64_t kConfigMsixVector = 0x10;     // le16 RW
inline constexpr uint64_t kNumQueues = 0x12;            // le16 RO
inline constexpr uint64_t kDeviceStatus = 0x14;         // u8 RW
inline constexpr uint64_t kConfigGeneration = 0x15;     // u8 RO
inline constexpr uint64_t kQueueSelect = 0x16;          // le16 RW
inline constexpr uint64_t kQueueSize = 0x18;            // le16 RW
inline constexpr uint64_t kQueueMsixVector = 0x1a;      // le16 RW
inline constexpr uint64_t kQueueEnable = 0x1c;          // le16 RW
inline constexpr uint64_t kQueueNotifyOff = 0x1e;       // le16 RO
inline constexpr uint64_t kQueueDesc = 0x20;            // le64 RW
inline constexpr uint64_t kQueueDriver = 0x28;          // le64 RW
inline constexpr uint64_t kQueueDevice = 0x30;          // le64 RW
inline constexpr uint64_t kSize = 0x38;
}  // namespace common

// Virtio 1.2 4.1.4.5: ISR status bits.
inline constexpr uint8_t kIsrQueue = 1u << 0;
inline constexpr uint8_t kIsrConfig = 1u << 1;
// Virtio 1.2 4.1.5.1.2: VIRTIO_MSI_NO_VECTOR.
inline constexpr uint16_t kNoVector = 0xffff;

// Cella's layout of BAR 0 (a 32-bit memory BAR): one 4 KiB page per structure, so that a
// guest can map them separately, then the MSI-X table and PBA.
inline constexpr unsigned kBar = 0;
inline constexpr uint64_t kCommonOffset = 0x0000;
inline constexpr uint64_t kIsrOffset = 0x1000;
inline constexpr uint64_t kDeviceOffset = 0x2000;
inline constexpr uint64_t kDeviceMaxSize = 0x1000;
inline constexpr uint64_t kNotifyOffset = 0x3000;
inline constexpr uint32_t kNotifyMultiplier = 4;  // queue i's doorbell at kNotifyOffset + 4 * i
inline constexpr uint64_t kNotifySize = 0x1000;
inline constexpr uint64_t kMsixTableOffset = 0x4000;
inline constexpr uint64_t kMsixPbaOffset = 0x6000;
inline constexpr uint64_t kBarSize = 0x8000;
inline constexpr unsigned kMaxQueues = kNotifySize / kNotifyMultiplier;

}  // namespace cella::virtio::pci_layout
