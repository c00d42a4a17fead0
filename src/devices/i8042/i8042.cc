#include "devices/i8042/i8042.h"

#include <algorithm>

namespace cella::devices {

namespace {

// Status register (PS/2 reference, "Status Register").
constexpr uint8_t kStatusOutputFull = 1 << 0;
constexpr uint8_t kStatusSystemFlag = 1 << 2;
constexpr uint8_t kStatusCommand = 1 << 3;   // the last write went to port 0x64
constexpr uint8_t kStatusUnlocked = 1 << 4;  // keyboard inhibit switch off
constexpr uint8_t kStatusAuxData = 1 << 5;
constexpr uint8_t kStatusTimeout = 1 << 6;
// Controller command byte (PS/2 reference, "Controller Command Byte").
constexpr uint8_t kCtrKeyboardInterrupt = 1 << 0;
constexpr uint8_t kCtrAuxInterrupt = 1 << 1;
constexpr uint8_t kCtrSystemFlag = 1 << 2;
constexpr uint8_t kCtrKeyboardDisabled = 1 << 4;
constexpr uint8_t kCtrAuxDisabled = 1 << 5;
constexpr uint8_t kCtrTranslate = 1 << 6;
// Output port (PC/AT reference, "Output Port"): bit 0 is the active-low CPU reset, bit 1
// the A20 gate, bits 4 and 5 mirror the output-buffer-full interrupts.
constexpr uint8_t kOutputPortNotReset = 1 << 0;
constexpr uint8_t kOutputPortA20 = 1 << 1;
constexpr uint8_t kOutputPortKeyboardFull = 1 << 4;
constexpr uint8_t kOutputPortAuxFull = 1 << 5;

// Commands whose whole effect is a fixed response or a command-byte bit.
struct SimpleCommand {
  uint8_t code;
  uint8_t set_ctr;
  uint8_t clear_ctr;
  int response;  // -1: none
};
constexpr SimpleCommand kSimpleCommands[] = {
    {0xa7, kCtrAuxDisabled, 0, -1},       // disable the aux port
    {0xa8, 0, kCtrAuxDisabled, -1},       // enable the aux port
    {0xa9, 0, 0, 0x00},                   // aux interface test: no error
    {0xaa, kCtrSystemFlag, 0, 0x55},      // controller self-test: passed
    {0xab, 0, 0, 0x00},                   // keyboard interface test: no error
    {0xad, kCtrKeyboardDisabled, 0, -1},  // disable the keyboard port
    {0xae, 0, kCtrKeyboardDisabled, -1},  // enable the keyboard port
    {0xc0, 0, 0, 0x80},                   // read input port: keyboard not inhibited
    {0xe0, 0, 0, 0x00},                   // read test inputs
};
// Commands followed by a data byte on port 0x60.
constexpr uint8_t kWriteOutputPort = 0xd1;
constexpr uint8_t kWriteKeyboardBuffer = 0xd2;
constexpr uint8_t kWriteAuxBuffer = 0xd3;
constexpr uint8_t kWriteAuxDevice = 0xd4;
constexpr uint8_t kReadOutputPort = 0xd0;
constexpr uint8_t kDisableA20 = 0xdd;
constexpr uint8_t kEnableA20 = 0xdf;
constexpr uint8_t kReadRamFirst = 0x20, kReadRamLast = 0x3f;
constexpr uint8_t kWriteRamFirst = 0x60, kWriteRamLast = 0x7f;
constexpr uint8_t kPulseFirst = 0xf0;  // F0-FF: pulse the output port bits whose bit is 0
constexpr uint8_t kDeviceNoResponse = 0xfe;

}  // namespace

I8042::I8042(IrqLine keyboard_irq, IrqLine aux_irq)
    : keyboard_irq_(keyboard_irq), aux_irq_(aux_irq) {
  reset();
}

// After reset PC firmware leaves interrupts on, translation on, the system flag set and A20
// enabled; the guest reprograms the command byte anyway.
void I8042::reset() {
  ram_.fill(0);
  ram_[0] = kCtrKeyboardInterrupt | kCtrSystemFlag | kCtrTranslate;
  output_.clear();
  pending_command_ = 0;
  last_write_command_ = false;
  output_port_ = kOutputPortNotReset | kOutputPortA20;
  fast_a20_ = false;
  update_irqs();
}

bool I8042::a20_enabled() const {
  return (output_port_ & kOutputPortA20) != 0 || fast_a20_;
}

void I8042::read(uint64_t offset, std::span<uint8_t> data) {
  uint8_t value = 0xff;
  if (offset == kDataOffset) value = read_data();
  if (offset == kCommandOffset) value = status();
  fill_access(data, value);
}

void I8042::write(uint64_t offset, std::span<const uint8_t> data) {
  if (data.empty()) return;
  if (offset == kDataOffset) write_data(data[0]);
  if (offset == kCommandOffset) write_command(data[0]);
}

uint8_t I8042::status() const {
  uint8_t value = kStatusUnlocked;
  if (!output_.empty()) {
    value |= kStatusOutputFull;
    if (output_.front().aux) value |= kStatusAuxData;
    if (output_.front().timeout) value |= kStatusTimeout;
  }
  if (ram_[0] & kCtrSystemFlag) value |= kStatusSystemFlag;
  if (last_write_command_) value |= kStatusCommand;
  return value;
}

uint8_t I8042::read_data() {
  if (output_.empty()) return 0;  // the output buffer keeps no stale byte here
  const uint8_t value = output_.front().value;
  output_.pop_front();
  ++metrics_.bytes_read;
  // Each byte is its own interrupt: drop the lines so the next byte makes a new edge.
  keyboard_irq_.set(false);
  aux_irq_.set(false);
  update_irqs();
  return value;
}

void I8042::push_output(uint8_t value, bool aux, bool timeout) {
  if (output_.size() >= kOutputLimit) return;
  output_.push_back({value, aux, timeout});
  update_irqs();
}

// PS/2 reference, "Controller Command Byte": IRQ 1 / IRQ 12 follow the output buffer when
// the corresponding interrupt bit is set.
void I8042::update_irqs() {
  const bool full = !output_.empty();
  const bool aux = full && output_.front().aux;
  const bool keyboard_level = full && !aux && (ram_[0] & kCtrKeyboardInterrupt);
  const bool aux_level = aux && (ram_[0] & kCtrAuxInterrupt);
  if (keyboard_irq_.level() != keyboard_level) keyboard_irq_.set(keyboard_level);
  if (aux_irq_.level() != aux_level) aux_irq_.set(aux_level);
}

void I8042::write_command(uint8_t command) {
  last_write_command_ = true;
  pending_command_ = 0;
  const auto* simple = std::find_if(std::begin(kSimpleCommands), std::end(kSimpleCommands),
                                    [&](const SimpleCommand& c) { return c.code == command; });
  if (simple != std::end(kSimpleCommands)) {
    ram_[0] = static_cast<uint8_t>((ram_[0] | simple->set_ctr) & ~simple->clear_ctr);
    if (simple->response >= 0) push_output(static_cast<uint8_t>(simple->response), false);
    update_irqs();
    return;
  }
  if (command >= kReadRamFirst && command <= kReadRamLast) {
    push_output(ram_[command - kReadRamFirst], false);
  } else if ((command >= kWriteRamFirst && command <= kWriteRamLast) ||
             (command >= kWriteOutputPort && command <= kWriteAuxDevice)) {
    pending_command_ = command;
  } else if (command == kReadOutputPort) {
    uint8_t port =
        output_port_ & static_cast<uint8_t>(~(kOutputPortKeyboardFull | kOutputPortAuxFull));
    if (!output_.empty())
      port |= output_.front().aux ? kOutputPortAuxFull : kOutputPortKeyboardFull;
    push_output(port, false);
  } else if (command == kDisableA20 || command == kEnableA20) {
    write_output_port(command == kEnableA20 ? (output_port_ | kOutputPortA20)
                                            : (output_port_ & ~kOutputPortA20));
  } else if (command >= kPulseFirst) {
    // Bits 3-0 select output port lines to pulse low for ~6 us; only bit 0 (reset) matters.
    if ((command & kOutputPortNotReset) == 0) pulse_reset();
  }
  // Anything else is not implemented by this controller and ignored, as unknown commands are.
}

void I8042::write_data(uint8_t value) {
  last_write_command_ = false;
  const uint8_t command = pending_command_;
  pending_command_ = 0;
  if (command >= kWriteRamFirst && command <= kWriteRamLast) {
    ram_[command - kWriteRamFirst] = value;
    update_irqs();
    return;
  }
  switch (command) {
    case kWriteOutputPort:
      write_output_port(value);
      return;
    case kWriteKeyboardBuffer:
      push_output(value, false);
      return;
    case kWriteAuxBuffer:  // the aux loopback Linux's check_aux() uses
      push_output(value, true);
      return;
    case kWriteAuxDevice:
      ++metrics_.no_device;
      push_output(kDeviceNoResponse, true, true);
      return;
    default:  // a byte for the keyboard, which is absent
      ++metrics_.no_device;
      push_output(kDeviceNoResponse, false, true);
      return;
  }
}

void I8042::write_output_port(uint8_t value) {
  const bool a20_before = a20_enabled();
  output_port_ = value | kOutputPortNotReset;  // the reset line is a pulse, not a level
  if (a20_enabled() != a20_before && on_a20_) on_a20_(a20_enabled());
  if ((value & kOutputPortNotReset) == 0) pulse_reset();
}

void I8042::set_fast_a20(bool enabled) {
  const bool a20_before = a20_enabled();
  fast_a20_ = enabled;
  if (a20_enabled() != a20_before && on_a20_) on_a20_(a20_enabled());
}

void I8042::pulse_reset() {
  ++metrics_.resets;
  if (on_reset_) on_reset_();
}

}  // namespace cella::devices
