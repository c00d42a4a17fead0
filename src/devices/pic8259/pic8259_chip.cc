#include "devices/pic8259/pic8259_chip.h"

#include "base/bits.h"

namespace cella::devices {

namespace {

// ICW1 (datasheet "Initialization Command Word 1"): A0 = 0 and D4 = 1.
constexpr uint8_t kIcw1Select = 1 << 4;
constexpr uint8_t kIcw1NeedIcw4 = 1 << 0;
constexpr uint8_t kIcw1Single = 1 << 1;
constexpr uint8_t kIcw1LevelTriggered = 1 << 3;
// OCW3 (datasheet "Operation Command Word 3"): D4 = 0, D3 = 1.
constexpr uint8_t kOcw3Select = 1 << 3;
constexpr uint8_t kOcw3ReadIsr = 1 << 0;
constexpr uint8_t kOcw3ReadRegister = 1 << 1;
constexpr uint8_t kOcw3Poll = 1 << 2;
constexpr uint8_t kOcw3SpecialMask = 1 << 5;
constexpr uint8_t kOcw3SetSpecialMask = 1 << 6;
// ICW4 (datasheet "Initialization Command Word 4").
constexpr uint8_t kIcw4AutoEoi = 1 << 1;
constexpr uint8_t kIcw4SpecialFullyNested = 1 << 4;

constexpr uint8_t kInitExpectIcw2 = 2;
constexpr uint8_t kInitExpectIcw3 = 3;
constexpr uint8_t kInitExpectIcw4 = 4;

// OCW2 R/SL/EOI (datasheet "Operation Command Word 2", bits 7:5).
enum class EoiTarget : uint8_t { kNone, kHighest, kSpecific };
struct Ocw2Command {
  EoiTarget clear;
  bool rotate;         // the cleared (or given) level becomes the lowest priority
  int8_t aeoi_rotate;  // -1: unchanged, 0/1: rotate-in-AEOI mode cleared/set
};
constexpr Ocw2Command kOcw2Commands[8] = {
    {EoiTarget::kNone, false, 0},       // 000 clear rotate in AEOI mode
    {EoiTarget::kHighest, false, -1},   // 001 non-specific EOI
    {EoiTarget::kNone, false, -1},      // 010 no operation
    {EoiTarget::kSpecific, false, -1},  // 011 specific EOI
    {EoiTarget::kNone, false, 1},       // 100 set rotate in AEOI mode
    {EoiTarget::kHighest, true, -1},    // 101 rotate on non-specific EOI
    {EoiTarget::kSpecific, true, -1},   // 110 set priority (no EOI: handled below)
    {EoiTarget::kSpecific, true, -1},   // 111 rotate on specific EOI
};
constexpr uint8_t kOcw2SetPriority = 6;

}  // namespace

void Pic8259Chip::reset() {
  irr_ = isr_ = imr_ = elcr_ = inputs_ = 0;
  vector_base_ = icw3_ = init_step_ = 0;
  lowest_priority_ = 7;
  need_icw4_ = single_ = ltim_ = auto_eoi_ = rotate_on_aeoi_ = false;
  special_fully_nested_ = special_mask_ = read_isr_ = poll_ = false;
}

bool Pic8259Chip::is_cascade(unsigned line) const {
  return !single_ && bit(icw3_, line & 7);
}

bool Pic8259Chip::level_triggered(unsigned line) const {
  return ltim_ || bit(elcr_, line) || static_cast<int>(line) == cascade_input_;
}

void Pic8259Chip::set_input(unsigned line, bool level) {
  line &= 7;
  const uint8_t mask = static_cast<uint8_t>(1u << line);
  if (level_triggered(line)) {
    // Level sensing: the request lasts as long as the input is high.
    irr_ = level ? (irr_ | mask) : (irr_ & ~mask);
  } else if (level && (inputs_ & mask) == 0) {
    irr_ |= mask;  // edge sensing: latched on the rising edge until acknowledged
  }
  inputs_ = level ? (inputs_ | mask) : (inputs_ & ~mask);
}

void Pic8259Chip::set_elcr(uint8_t elcr) {
  elcr_ = elcr;
  rearm_level_inputs();
}

// Level-sensitive inputs that are high request service again (after an acknowledge, an ELCR
// change or initialization).
void Pic8259Chip::rearm_level_inputs() {
  for (unsigned line = 0; line < 8; ++line) {
    if (level_triggered(line) && bit(inputs_, line)) irr_ |= static_cast<uint8_t>(1u << line);
  }
}

int Pic8259Chip::highest_request() const {
  uint8_t requests = irr_ & ~imr_;
  // Datasheet "Special Mask Mode": levels in service are inhibited, all others enabled.
  if (special_mask_) requests &= ~isr_;
  for (unsigned rank = 0; rank < 8; ++rank) {
    const unsigned line = priority_line(rank);
    if (bit(requests, line)) return static_cast<int>(line);
  }
  return -1;
}

int Pic8259Chip::highest_in_service() const {
  for (unsigned rank = 0; rank < 8; ++rank) {
    const unsigned line = priority_line(rank);
    if (bit(isr_, line)) return static_cast<int>(line);
  }
  return -1;
}

bool Pic8259Chip::output() const {
  const int request = highest_request();
  if (request < 0) return false;
  if (special_mask_) return true;
  for (unsigned rank = 0; rank < 8; ++rank) {
    const unsigned line = priority_line(rank);
    if (static_cast<int>(line) == request) {
      // Datasheet "Special Fully Nested Mode": a slave in service may still pass requests of
      // its own higher-priority inputs through its (in-service) cascade line.
      return !bit(isr_, line) || (special_fully_nested_ && is_cascade(line));
    }
    if (bit(isr_, line)) return false;
  }
  return false;
}

int Pic8259Chip::acknowledge_line() {
  if (!output()) return -1;
  const int line = highest_request();
  const uint8_t mask = static_cast<uint8_t>(1u << line);
  irr_ &= ~mask;
  rearm_level_inputs();
  if (!auto_eoi_) {
    isr_ |= mask;
  } else if (rotate_on_aeoi_) {
    lowest_priority_ = static_cast<uint8_t>(line);  // datasheet "Automatic Rotation"
  }
  return line;
}

// Datasheet "The Poll Command": the next read returns I (bit 7) and the highest request level
// W2-W0, and counts as an interrupt acknowledge.
uint8_t Pic8259Chip::poll() {
  poll_ = false;
  const int line = acknowledge_line();
  return line < 0 ? 0 : static_cast<uint8_t>(0x80 | line);
}

void Pic8259Chip::write_command(uint8_t value) {
  if (value & kIcw1Select) {
    // Datasheet "Initialization Command Words": the edge sense circuit is reset (an input must
    // rise again), IMR and ISR cleared, IR7 lowest priority, special mask off, status read set
    // to IRR, and without IC4 every ICW4 function is zero.
    need_icw4_ = (value & kIcw1NeedIcw4) != 0;
    single_ = (value & kIcw1Single) != 0;
    ltim_ = (value & kIcw1LevelTriggered) != 0;
    irr_ = isr_ = imr_ = 0;
    icw3_ = 0;
    lowest_priority_ = 7;
    auto_eoi_ = rotate_on_aeoi_ = special_fully_nested_ = false;
    special_mask_ = read_isr_ = poll_ = false;
    init_step_ = kInitExpectIcw2;
    rearm_level_inputs();
    return;
  }
  if (value & kOcw3Select) {
    write_ocw3(value);
  } else {
    write_ocw2(value);
  }
}

void Pic8259Chip::write_ocw2(uint8_t value) {
  const unsigned code = value >> 5;
  const unsigned level = value & 7;
  const Ocw2Command& command = kOcw2Commands[code];
  if (command.aeoi_rotate >= 0) rotate_on_aeoi_ = command.aeoi_rotate != 0;
  int cleared = -1;
  if (code == kOcw2SetPriority) {
    cleared = static_cast<int>(level);
  } else if (command.clear == EoiTarget::kHighest) {
    cleared = highest_in_service();
    if (cleared >= 0) isr_ &= static_cast<uint8_t>(~(1u << cleared));
  } else if (command.clear == EoiTarget::kSpecific) {
    cleared = static_cast<int>(level);
    isr_ &= static_cast<uint8_t>(~(1u << level));
  }
  if (command.rotate && cleared >= 0) lowest_priority_ = static_cast<uint8_t>(cleared);
}

void Pic8259Chip::write_ocw3(uint8_t value) {
  if (value & kOcw3SetSpecialMask) special_mask_ = (value & kOcw3SpecialMask) != 0;
  if (value & kOcw3Poll) poll_ = true;
  if (value & kOcw3ReadRegister) read_isr_ = (value & kOcw3ReadIsr) != 0;
}

void Pic8259Chip::write_data(uint8_t value) {
  switch (init_step_) {
    case kInitExpectIcw2:
      vector_base_ = value & 0xf8;  // T7-T3 in 8086 mode
      init_step_ = !single_ ? kInitExpectIcw3 : need_icw4_ ? kInitExpectIcw4 : 0;
      return;
    case kInitExpectIcw3:
      icw3_ = value;
      init_step_ = need_icw4_ ? kInitExpectIcw4 : 0;
      return;
    case kInitExpectIcw4:
      auto_eoi_ = (value & kIcw4AutoEoi) != 0;
      special_fully_nested_ = (value & kIcw4SpecialFullyNested) != 0;
      init_step_ = 0;
      return;
    default:
      imr_ = value;  // OCW1
      return;
  }
}

uint8_t Pic8259Chip::read_command() {
  if (poll_) return poll();
  return read_isr_ ? isr_ : irr_;
}

uint8_t Pic8259Chip::read_data() {
  if (poll_) return poll();
  return imr_;
}

}  // namespace cella::devices
