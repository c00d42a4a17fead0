// Snapshot state of the 8259A pair: each chip's registers, modes and input levels.
#include "devices/pic8259/dual_pic.h"
#include "devices/pic8259/pic8259_chip.h"

namespace cella::devices {

namespace {
constexpr uint32_t kStateVersion = 1;
}

void Pic8259Chip::save(snapshot::StateWriter& out) const {
  for (uint8_t v :
       {irr_, isr_, imr_, elcr_, inputs_, vector_base_, icw3_, init_step_, lowest_priority_}) {
    out.u8(v);
  }
  for (bool b : {need_icw4_, single_, ltim_, auto_eoi_, rotate_on_aeoi_, special_fully_nested_,
                 special_mask_, read_isr_, poll_}) {
    out.boolean(b);
  }
}

Result<void> Pic8259Chip::load(snapshot::StateReader& in) {
  for (uint8_t* v : {&irr_, &isr_, &imr_, &elcr_, &inputs_, &vector_base_, &icw3_, &init_step_,
                     &lowest_priority_}) {
    CELLA_TRY_ASSIGN(value, in.u8());
    *v = value;
  }
  for (bool* b : {&need_icw4_, &single_, &ltim_, &auto_eoi_, &rotate_on_aeoi_,
                  &special_fully_nested_, &special_mask_, &read_isr_, &poll_}) {
    CELLA_TRY_ASSIGN(value, in.boolean());
    *b = value;
  }
  if (init_step_ == 1 || init_step_ > 4 || lowest_priority_ > 7 || (vector_base_ & 7) != 0) {
    return make_error(
        "pic8259 state: impossible initialization step {}, priority {} or vector "
        "base {:#x}",
        init_step_, lowest_priority_, vector_base_);
  }
  return ok();
}

void DualPic::save(snapshot::StateWriter& out) const {
  out.begin_section(name(), kStateVersion);
  master_.save(out);
  slave_.save(out);
  out.end_section();
}

Result<void> DualPic::load(snapshot::StateReader& in) {
  CELLA_TRY(in.begin_section(name(), kStateVersion));
  Pic8259Chip master(kCascadeLine), slave;
  CELLA_TRY(master.load(in));
  CELLA_TRY(slave.load(in));
  CELLA_TRY(in.end_section());
  if ((master.elcr() & ~kElcr1Writable) != 0 || (slave.elcr() & ~kElcr2Writable) != 0) {
    return make_error("pic8259 state: ELCR {:#x}/{:#x} marks an always-edge IRQ as level",
                      master.elcr(), slave.elcr());
  }
  master_ = master;
  slave_ = slave;
  update();
  return ok();
}

}  // namespace cella::devices
