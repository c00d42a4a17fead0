#include "pci/pci_bus.h"

namespace cella::pci {

namespace {
constexpr uint32_t kStateVersion = 1;
}

uint32_t intx_gsi(uint8_t device, uint8_t pin) {
  return kIntxGsiBase + (device + (pin == 0 ? 0u : pin - 1u)) % 4;
}

Result<void> PciBus::add(uint8_t device, uint8_t function, ConfigSpace& config) {
  if (device >= kDevices || function >= kFunctions) {
    return make_error("pci: no slot {:02x}.{}", device, function);
  }
  ConfigSpace*& slot = functions_[device * kFunctions + function];
  if (slot != nullptr) return make_error("pci: slot 00:{:02x}.{} is taken", device, function);
  if (config.interrupt_pin() > 4) {
    return make_error("pci: 00:{:02x}.{} has INTx pin {}", device, function,
                      config.interrupt_pin());
  }
  slot = &config;
  if (config.interrupt_pin() != 0) {
    config.set_u8(reg::kInterruptLine,
                  static_cast<uint8_t>(intx_gsi(device, config.interrupt_pin())));
  }
  update_multifunction(device);
  return ok();
}

void PciBus::update_multifunction(uint8_t device) {
  ConfigSpace* first = functions_[device * kFunctions];
  if (first == nullptr) return;
  bool others = false;
  for (unsigned f = 1; f < kFunctions; ++f)
    others |= functions_[device * kFunctions + f] != nullptr;
  const uint8_t header = first->u8(reg::kHeaderType);
  first->set_u8(reg::kHeaderType,
                others ? header | kHeaderMultiFunction : header & ~kHeaderMultiFunction);
}

ConfigSpace* PciBus::find(uint8_t device, uint8_t function) const {
  if (device >= kDevices || function >= kFunctions) return nullptr;
  return functions_[device * kFunctions + function];
}

devices::IrqLine PciBus::intx_line(devices::InterruptSink& sink, uint8_t device,
                                   uint8_t function) const {
  const ConfigSpace* config = find(device, function);
  if (config == nullptr || config->interrupt_pin() == 0) return {};
  return devices::IrqLine(sink, intx_gsi(device, config->interrupt_pin()));
}

uint32_t PciBus::read(uint8_t device, uint8_t function, uint16_t offset, unsigned size) {
  ++metrics_.config_reads;
  const ConfigSpace* config = find(device, function);
  if (config == nullptr) {
    ++metrics_.unclaimed;
    return size >= 4 ? 0xffffffff : (1u << (8 * size)) - 1;
  }
  return config->read(offset, size);
}

void PciBus::write(uint8_t device, uint8_t function, uint16_t offset, unsigned size,
                   uint32_t value) {
  ++metrics_.config_writes;
  ConfigSpace* config = find(device, function);
  if (config == nullptr) {
    ++metrics_.unclaimed;
    return;
  }
  config->write(offset, size, value);
}

void PciBus::save(snapshot::StateWriter& out) const {
  out.begin_section("pci-bus", kStateVersion);
  for (unsigned slot = 0; slot < functions_.size(); ++slot) {
    if (functions_[slot] == nullptr) continue;
    out.boolean(true);
    out.u8(static_cast<uint8_t>(slot));  // device << 3 | function
    functions_[slot]->save(out);
  }
  out.boolean(false);
  out.end_section();
}

Result<void> PciBus::load(snapshot::StateReader& in) {
  CELLA_TRY(in.begin_section("pci-bus", kStateVersion));
  for (unsigned slot = 0; slot < functions_.size(); ++slot) {
    if (functions_[slot] == nullptr) continue;
    CELLA_TRY_ASSIGN(more, in.boolean());
    uint8_t saved_slot = 0xff;
    if (more) {
      CELLA_TRY_ASSIGN(value, in.u8());
      saved_slot = value;
    }
    if (saved_slot != slot) {
      return make_error("pci-bus state: no state for function 00:{:02x}.{}", slot >> 3, slot & 7);
    }
    CELLA_TRY(functions_[slot]->load(in));
  }
  CELLA_TRY_ASSIGN(extra, in.boolean());
  if (extra) return make_error("pci-bus state: a function this bus does not have");
  return in.end_section();
}

}  // namespace cella::pci
