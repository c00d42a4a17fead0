#include "devices/pic8259/dual_pic.h"

namespace cella::devices {

DualPic::DualPic() {
  reset();
}

void DualPic::reset() {
  master_.reset();
  slave_.reset();
  update();
}

void DualPic::read(uint64_t offset, std::span<uint8_t> data) {
  for (size_t i = 0; i < data.size(); ++i) data[i] = read_register(offset + i);
}

void DualPic::write(uint64_t offset, std::span<const uint8_t> data) {
  for (size_t i = 0; i < data.size(); ++i) write_register(offset + i, data[i]);
}

uint8_t DualPic::read_register(uint64_t offset) {
  uint8_t value = 0xff;
  switch (offset) {
    case kMasterOffset:
      value = master_.read_command();
      break;
    case kMasterOffset + 1:
      value = master_.read_data();
      break;
    case kSlaveOffset:
      value = slave_.read_command();
      break;
    case kSlaveOffset + 1:
      value = slave_.read_data();
      break;
    case kElcrOffset:
      return master_.elcr();
    case kElcrOffset + 1:
      return slave_.elcr();
    default:
      return value;
  }
  update();  // a poll read acknowledges
  return value;
}

void DualPic::write_register(uint64_t offset, uint8_t value) {
  switch (offset) {
    case kMasterOffset:
      master_.write_command(value);
      break;
    case kMasterOffset + 1:
      master_.write_data(value);
      break;
    case kSlaveOffset:
      slave_.write_command(value);
      break;
    case kSlaveOffset + 1:
      slave_.write_data(value);
      break;
    case kElcrOffset:
      master_.set_elcr(value & kElcr1Writable);
      break;
    case kElcrOffset + 1:
      slave_.set_elcr(value & kElcr2Writable);
      break;
    default:
      return;
  }
  update();
}

void DualPic::set_irq(unsigned line, bool level) {
  if (line >= 16) return;
  if (line < 8) {
    master_.set_input(line, level);
  } else {
    slave_.set_input(line - 8, level);
  }
  update();
}

uint8_t DualPic::acknowledge() {
  uint8_t vector;
  const int line = master_.acknowledge_line();
  if (line < 0) {
    vector = static_cast<uint8_t>(master_.vector_base() + 7);
    ++metrics_.spurious;
  } else if (master_.is_cascade(static_cast<unsigned>(line))) {
    // The master in cascade mode hands the second INTA to the slave on CAS0-2.
    const int slave_line = slave_.acknowledge_line();
    vector = static_cast<uint8_t>(slave_.vector_base() + (slave_line < 0 ? 7 : slave_line));
    ++(slave_line < 0 ? metrics_.spurious : metrics_.acknowledged);
  } else {
    vector = static_cast<uint8_t>(master_.vector_base() + line);
    ++metrics_.acknowledged;
  }
  update();
  return vector;
}

// The slave's INT drives the master's IR2; the master's INT is the CPU's INTR.
void DualPic::update() {
  master_.set_input(kCascadeLine, slave_.output());
  const bool output = master_.output();
  if (output == output_) return;
  output_ = output;
  if (on_output_change_) on_output_change_(output);
}

}  // namespace cella::devices
