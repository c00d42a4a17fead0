// The IOAPIC's snapshot section: ID, IOREGSEL, the redirection table and the input levels.
#include "devices/ioapic/ioapic.h"
#include "devices/ioapic/ioapic_registers.h"

namespace cella::devices {

namespace {
constexpr uint32_t kStateVersion = 1;
}

void Ioapic::save(snapshot::StateWriter& out) const {
  out.begin_section("ioapic", kStateVersion);
  out.u32(id_);
  out.u8(select_);
  for (uint64_t entry : redirection_) out.u64(entry);
  for (bool level : asserted_) out.boolean(level);
  out.end_section();
}

Result<void> Ioapic::load(snapshot::StateReader& in) {
  CELLA_TRY(in.begin_section("ioapic", kStateVersion));
  reset();
  CELLA_TRY_ASSIGN(id, in.u32());
  id_ = id & ioapic::kIdMask;
  CELLA_TRY_ASSIGN(select, in.u8());
  select_ = select;
  for (uint64_t& entry : redirection_) {
    CELLA_TRY_ASSIGN(value, in.u64());
    entry = value & (ioapic::kWritable | ioapic::kRemoteIrr);
  }
  for (size_t pin = 0; pin < kPins; ++pin) {
    CELLA_TRY_ASSIGN(level, in.boolean());
    asserted_[pin] = level;
  }
  return in.end_section();
}

}  // namespace cella::devices
