// MSI-X (PCI Local Bus 3.0 6.8.2): the capability in configuration space, the vector table and
// the pending bit array that live in one of the function's memory BARs, and the delivery rule:
// a vector fires as a message when MSI-X is enabled and neither the function nor the vector is
// masked; otherwise its pending bit is set, and the message goes out when it is unmasked.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"
#include "pci/config_space.h"
#include "pci/msi_sink.h"
#include "snapshot/state_stream.h"

namespace cella::pci {

// PCI Local Bus 3.0 6.8.2, Figure 6-10: the MSI-X capability structure.
namespace msix_reg {
inline constexpr uint8_t kCapabilityId = 0x11;
inline constexpr uint8_t kLength = 12;
inline constexpr uint16_t kMessageControl = 2;
inline constexpr uint16_t kTableOffset = 4;  // bits 2:0 BIR, 31:3 offset
inline constexpr uint16_t kPbaOffset = 8;    // bits 2:0 BIR, 31:3 offset
// 6.8.2.3: message control.
inline constexpr uint16_t kTableSizeMask = 0x7ff;  // N - 1
inline constexpr uint16_t kFunctionMask = 1u << 14;
inline constexpr uint16_t kEnable = 1u << 15;
// 6.8.2.6-6.8.2.9: a table entry is 16 bytes.
inline constexpr uint64_t kEntrySize = 16;
inline constexpr uint64_t kEntryAddressLow = 0;
inline constexpr uint64_t kEntryAddressHigh = 4;
inline constexpr uint64_t kEntryData = 8;
inline constexpr uint64_t kEntryVectorControl = 12;
inline constexpr uint32_t kVectorMasked = 1u << 0;
}  // namespace msix_reg

class Msix {
 public:
  static constexpr unsigned kMaxVectors = 2048;

  // Adds the capability to `config` for `vectors` vectors (1-2048) whose table starts at
  // `table_offset` and PBA at `pba_offset` of BAR `bar` (both 8-byte aligned; the caller lays
  // them out inside the BAR). Messages go to `sink`.
  static Result<Msix> create(ConfigSpace& config, unsigned vectors, unsigned bar,
                             uint32_t table_offset, uint32_t pba_offset, MsiSink* sink);

  unsigned vectors() const { return static_cast<unsigned>(entries_.size()); }
  bool enabled() const;
  uint64_t table_bytes() const { return entries_.size() * msix_reg::kEntrySize; }
  uint64_t pba_bytes() const { return ((entries_.size() + 63) / 64) * 8; }

  // Fires `vector` (or records it pending). Out-of-range vectors are ignored.
  void signal(unsigned vector);
  bool pending(unsigned vector) const;

  // Accesses of 4 or 8 bytes (6.8.2: table and PBA accesses are DWORD or QWORD aligned) at
  // offsets inside the table or the PBA; others read zero and are dropped.
  void read_table(uint64_t offset, std::span<uint8_t> data) const;
  void write_table(uint64_t offset, std::span<const uint8_t> data);
  void read_pba(uint64_t offset, std::span<uint8_t> data) const;

  // The transport forwards every guest write to configuration space: enabling MSI-X or
  // clearing the function mask sends the messages that became deliverable.
  void config_written();

  // Power-on state: every vector masked, nothing pending, the capability disabled.
  void reset();

  // An "msix" section: the table and the pending bits (the capability bytes are in the
  // configuration space's own section).
  void save(snapshot::StateWriter& out) const;
  Result<void> load(snapshot::StateReader& in);

 private:
  struct Entry {
    uint32_t address_low = 0;
    uint32_t address_high = 0;
    uint32_t data = 0;
    uint32_t vector_control = msix_reg::kVectorMasked;
    bool pending = false;
  };
  Msix(ConfigSpace& config, uint16_t capability, unsigned vectors, MsiSink* sink);
  bool function_masked() const;
  bool deliverable(const Entry& entry) const;
  void send(Entry& entry);
  void deliver_pending();

  ConfigSpace* config_;
  uint16_t capability_;
  std::vector<Entry> entries_;
  MsiSink* sink_;
};

}  // namespace cella::pci
