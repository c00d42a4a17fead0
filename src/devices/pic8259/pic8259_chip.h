// One Intel 8259A programmable interrupt controller (8259A datasheet, Intel order 231468):
// the initialization sequence ICW1-ICW4, the operation commands OCW1-OCW3, IRR/ISR/IMR,
// priority resolution with rotation, special mask and special fully nested modes, automatic
// EOI, polling, and per-input edge or level sensing (ICW1 LTIM, or the PC's ELCR). DualPic
// wires two of them the PC way; the chip knows nothing of ports.
#pragma once

#include <cstdint>

#include "base/result.h"
#include "snapshot/state_stream.h"

namespace cella::devices {

class Pic8259Chip {
 public:
  // `cascade_input`: the input wired to a slave's INT (level-sensitive inside the pair).
  explicit Pic8259Chip(int cascade_input = -1) : cascade_input_(cascade_input) { reset(); }

  void reset();
  void write_command(uint8_t value);  // A0 = 0: ICW1, OCW2, OCW3
  void write_data(uint8_t value);     // A0 = 1: ICW2-ICW4, OCW1
  uint8_t read_command();             // IRR or ISR (OCW3 RR/RIS), or the poll word
  uint8_t read_data();                // IMR, or the poll word

  void set_input(unsigned line, bool level);
  void set_elcr(uint8_t elcr);
  uint8_t elcr() const { return elcr_; }

  // INT: a request outranks everything in service.
  bool output() const;
  // The first INTA pulse: the line acknowledged (its ISR bit set unless AEOI), or -1 when no
  // request stands any more (the caller answers with the spurious IR7 vector).
  int acknowledge_line();
  uint8_t vector_base() const { return vector_base_; }
  // ICW3 of a master: the inputs that have slaves.
  bool is_cascade(unsigned line) const;

  void save(snapshot::StateWriter& out) const;
  Result<void> load(snapshot::StateReader& in);

 private:
  bool level_triggered(unsigned line) const;
  int highest_request() const;
  int highest_in_service() const;
  unsigned priority_line(unsigned rank) const { return (lowest_priority_ + 1 + rank) & 7; }
  void rearm_level_inputs();
  void write_ocw2(uint8_t value);
  void write_ocw3(uint8_t value);
  uint8_t poll();

  int cascade_input_;
  uint8_t irr_ = 0;
  uint8_t isr_ = 0;
  uint8_t imr_ = 0;
  uint8_t elcr_ = 0;
  uint8_t inputs_ = 0;  // the current level of each IR input
  uint8_t vector_base_ = 0;
  uint8_t icw3_ = 0;
  uint8_t init_step_ = 0;  // 0: operational, 2..4: expecting ICW2..ICW4
  uint8_t lowest_priority_ = 7;
  bool need_icw4_ = false;
  bool single_ = false;
  bool ltim_ = false;
  bool auto_eoi_ = false;
  bool rotate_on_aeoi_ = false;
  bool special_fully_nested_ = false;
  bool special_mask_ = false;
  bool read_isr_ = false;
  bool poll_ = false;
};

}  // namespace cella::devices
