// Snapshot state of the keyboard controller: its RAM (command byte first), the queued output
// bytes, a command waiting for its data byte, the output port and the fast A20 input.
#include "devices/i8042/i8042.h"

namespace cella::devices {

namespace {
constexpr uint32_t kStateVersion = 1;
}  // namespace

void I8042::save(snapshot::StateWriter& out) const {
  out.begin_section(name(), kStateVersion);
  out.bytes(ram_);
  out.u8(static_cast<uint8_t>(output_.size()));
  for (const OutputByte& byte : output_) {
    out.u8(byte.value);
    out.boolean(byte.aux);
    out.boolean(byte.timeout);
  }
  out.u8(pending_command_);
  out.boolean(last_write_command_);
  out.u8(output_port_);
  out.boolean(fast_a20_);
  out.end_section();
}

Result<void> I8042::load(snapshot::StateReader& in) {
  CELLA_TRY(in.begin_section(name(), kStateVersion));
  std::array<uint8_t, 32> ram;
  CELLA_TRY(in.bytes(ram));
  CELLA_TRY_ASSIGN(count, in.u8());
  if (count > kOutputLimit) {
    return make_error("i8042 state: {} queued output bytes, at most {}", count, kOutputLimit);
  }
  std::deque<OutputByte> output;
  for (unsigned i = 0; i < count; ++i) {
    CELLA_TRY_ASSIGN(value, in.u8());
    CELLA_TRY_ASSIGN(aux, in.boolean());
    CELLA_TRY_ASSIGN(timeout, in.boolean());
    output.push_back({value, aux, timeout});
  }
  CELLA_TRY_ASSIGN(pending, in.u8());
  CELLA_TRY_ASSIGN(last_write_command, in.boolean());
  CELLA_TRY_ASSIGN(output_port, in.u8());
  CELLA_TRY_ASSIGN(fast_a20, in.boolean());
  CELLA_TRY(in.end_section());
  const bool pending_ok =
      pending == 0 || (pending >= 0x60 && pending <= 0x7f) || (pending >= 0xd1 && pending <= 0xd4);
  if (!pending_ok || (output_port & 1) == 0) {
    return make_error("i8042 state: impossible pending command {:#x} or output port {:#x}", pending,
                      output_port);
  }
  ram_ = ram;
  output_ = std::move(output);
  pending_command_ = pending;
  last_write_command_ = last_write_command;
  output_port_ = output_port;
  fast_a20_ = fast_a20;
  update_irqs();
  return ok();
}

}  // namespace cella::devices
