// The configuration space of one PCI function (PCI Local Bus 3.0 chapter 6; 4 KiB for PCI
// Express, PCIe Base 4.0 7.2.2): bytes with a per-byte write mask (read-only, read-write,
// write-1-to-clear), the type 0 header, base address registers with sizing and a listener for
// when the guest moves or enables one, the capability list, and the INTx pin.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "base/result.h"
#include "snapshot/state_stream.h"

namespace cella::pci {

// PCI Local Bus 3.0 6.1, Figure 6-1: the type 0 configuration header.
namespace reg {
inline constexpr uint16_t kVendorId = 0x00;
inline constexpr uint16_t kDeviceId = 0x02;
inline constexpr uint16_t kCommand = 0x04;
inline constexpr uint16_t kStatus = 0x06;
inline constexpr uint16_t kRevisionId = 0x08;
inline constexpr uint16_t kClassCode = 0x09;  // programming interface, subclass, base class
inline constexpr uint16_t kCacheLineSize = 0x0c;
inline constexpr uint16_t kLatencyTimer = 0x0d;
inline constexpr uint16_t kHeaderType = 0x0e;
inline constexpr uint16_t kBar0 = 0x10;  // six BARs, 0x10-0x27
inline constexpr uint16_t kSubsystemVendorId = 0x2c;
inline constexpr uint16_t kSubsystemId = 0x2e;
inline constexpr uint16_t kCapabilitiesPointer = 0x34;
inline constexpr uint16_t kInterruptLine = 0x3c;
inline constexpr uint16_t kInterruptPin = 0x3d;
inline constexpr uint16_t kFirstCapability = 0x40;  // 6.7: capabilities follow the header
}  // namespace reg

// PCI Local Bus 3.0 6.2.2, Figure 6-2: command register bits.
inline constexpr uint16_t kCommandIoSpace = 1u << 0;
inline constexpr uint16_t kCommandMemorySpace = 1u << 1;
inline constexpr uint16_t kCommandBusMaster = 1u << 2;
inline constexpr uint16_t kCommandParityErrorResponse = 1u << 6;
inline constexpr uint16_t kCommandSerrEnable = 1u << 8;
inline constexpr uint16_t kCommandInterruptDisable = 1u << 10;
// PCI Local Bus 3.0 6.2.3, Figure 6-3: status register bits.
inline constexpr uint16_t kStatusInterrupt = 1u << 3;
inline constexpr uint16_t kStatusCapabilitiesList = 1u << 4;
inline constexpr uint16_t kStatusErrorBits = 0xf900;  // bits 8, 11-15: write 1 to clear
// PCI Local Bus 3.0 6.2.1: header type bit 7 marks a multi-function device.
inline constexpr uint8_t kHeaderMultiFunction = 0x80;

inline constexpr unsigned kBarCount = 6;
// PCI Local Bus 3.0 6.2.5.1, Figures 6-4/6-5: BAR kinds.
enum class BarKind : uint8_t { kIo, kMemory32, kMemory64 };

// What the guest changed about a BAR: where it decodes before and after (nullopt: not
// decoding, because the command register disables it or the address is unusable).
struct BarChange {
  unsigned index;
  BarKind kind;
  uint64_t size;
  std::optional<uint64_t> old_base;
  std::optional<uint64_t> new_base;
};

// The identity fields of the header (PCI Local Bus 3.0 6.2.1).
struct FunctionIdentity {
  uint16_t vendor_id;
  uint16_t device_id;
  uint8_t base_class;
  uint8_t subclass;
  uint8_t programming_interface = 0;
  uint8_t revision = 0;
  uint16_t subsystem_vendor_id = 0;
  uint16_t subsystem_id = 0;
};

class ConfigSpace {
 public:
  static constexpr size_t kConventionalSize = 256;
  static constexpr size_t kExtendedSize = 4096;

  explicit ConfigSpace(const FunctionIdentity& identity, size_t size = kExtendedSize);

  // The guest's accesses (1, 2 or 4 bytes); bytes past the end read zero, writes drop.
  uint32_t read(uint16_t offset, unsigned size) const;
  void write(uint16_t offset, unsigned size, uint32_t value);

  // The device's own view: values regardless of the write masks, and the masks.
  uint8_t u8(uint16_t offset) const { return data_[offset]; }
  uint16_t u16(uint16_t offset) const;
  uint32_t u32(uint16_t offset) const;
  void set_u8(uint16_t offset, uint8_t value) { data_[offset] = value; }
  void set_u16(uint16_t offset, uint16_t value);
  void set_u32(uint16_t offset, uint32_t value);
  void set_writable(uint16_t offset, size_t length, uint8_t mask = 0xff);
  void set_write_one_to_clear(uint16_t offset, size_t length, uint8_t mask = 0xff);

  // PCI Local Bus 3.0 6.2.5.1: a BAR of `size` bytes (a power of two; at least 4 for I/O, 16
  // for memory). A 64-bit BAR takes slots index and index + 1.
  Result<void> add_bar(unsigned index, BarKind kind, uint64_t size, bool prefetchable = false);
  // Where BAR `index` decodes now, if it does.
  std::optional<uint64_t> bar_base(unsigned index) const;
  // What add_bar() defined at `index` (kind, size), or nullopt for an absent BAR or the upper
  // half of a 64-bit one.
  struct BarDefinition {
    BarKind kind;
    uint64_t size;
  };
  std::optional<BarDefinition> bar_definition(unsigned index) const;
  // PCI Local Bus 3.0 6.7: appends a capability of `length` bytes (ID and next pointer
  // included) to the list; returns its offset, or 0 if the 256-byte space is full.
  uint8_t add_capability(uint8_t id, uint8_t length);
  // PCI Local Bus 3.0 6.2.4: the INTx pin (1 = INTA# ... 4 = INTD#, 0 = none).
  void set_interrupt_pin(uint8_t pin) { data_[reg::kInterruptPin] = pin; }
  uint8_t interrupt_pin() const { return data_[reg::kInterruptPin]; }

  // Called after the guest moves, enables or disables a BAR.
  void set_bar_listener(std::function<void(const BarChange&)> listener) {
    bar_listener_ = std::move(listener);
  }
  // Called after every guest write, for devices with registers in their capabilities.
  void set_write_listener(std::function<void(uint16_t offset, unsigned size)> listener) {
    write_listener_ = std::move(listener);
  }

  size_t size() const { return data_.size(); }
  std::span<const uint8_t> bytes() const { return data_; }

  // One "pci-config" section with the bytes; load refuses another device's identity and
  // reports the BARs it moves to the listener.
  void save(snapshot::StateWriter& out) const;
  Result<void> load(snapshot::StateReader& in);

 private:
  struct Bar {
    bool present = false;
    bool upper_half = false;  // the high doubleword of the 64-bit BAR below
    BarKind kind = BarKind::kMemory32;
    uint64_t size = 0;
    std::optional<uint64_t> decoded;  // last reported to the listener
  };
  std::optional<uint64_t> decode(unsigned index) const;
  void update_bars();

  std::vector<uint8_t> data_;
  std::vector<uint8_t> writable_;
  std::vector<uint8_t> write_one_to_clear_;
  std::array<Bar, kBarCount> bars_{};
  uint8_t last_capability_ = 0;  // offset of the last capability, 0 for none
  uint16_t next_capability_ = reg::kFirstCapability;
  std::function<void(const BarChange&)> bar_listener_;
  std::function<void(uint16_t, unsigned)> write_listener_;
};

}  // namespace cella::pci
