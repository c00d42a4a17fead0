// Fuzzes PCI configuration: hostile sequences of mechanism #1 port accesses and ECAM
// accesses against the host bridge and two functions with every kind of BAR and a capability
// list, snapshot round trips in between. Every BAR the listener reports must be aligned to its
// size and end inside its address space. Fresh state per input.
#include <array>
#include <cstdint>

#include "fuzz/fuzz_input.h"
#include "pci/config_access.h"
#include "pci/host_bridge.h"

namespace {

using namespace cella;
using namespace cella::pci;

void access(devices::Device& device, uint64_t offset, unsigned size, uint64_t value, bool write) {
  std::array<uint8_t, 8> data{};
  const std::span<uint8_t> bytes(data.data(), size);
  if (write) {
    devices::fill_access(bytes, value);
    device.write(offset, bytes);
  } else {
    device.read(offset, bytes);
  }
}

void check(const BarChange& change) {
  if (!change.new_base) return;
  const uint64_t base = *change.new_base;
  const uint64_t limit = change.kind == BarKind::kMemory64 ? ~uint64_t{0} : 0xffffffff;
  if ((base & (change.size - 1)) != 0 || base == 0 || change.size - 1 >= limit - base) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzzing::FuzzInput input(data, size);
  PciBus bus;
  HostBridge bridge;
  ConfigSpace nic({.vendor_id = 0x1af4, .device_id = 0x1041, .base_class = 2, .subclass = 0});
  ConfigSpace disk({.vendor_id = 0x1af4, .device_id = 0x1042, .base_class = 1, .subclass = 0},
                   ConfigSpace::kConventionalSize);
  if (!nic.add_bar(0, BarKind::kIo, 0x20).ok() ||
      !nic.add_bar(1, BarKind::kMemory32, 0x1000).ok() ||
      !nic.add_bar(2, BarKind::kMemory64, 0x4000, true).ok() ||
      !disk.add_bar(4, BarKind::kMemory64, 1ull << 33).ok()) {
    __builtin_trap();
  }
  nic.add_capability(0x11, 12);
  nic.add_capability(0x09, 8);
  nic.set_interrupt_pin(1);
  disk.set_interrupt_pin(4);
  nic.set_bar_listener(check);
  disk.set_bar_listener(check);
  if (!bridge.attach(bus).ok() || !bus.add(1, 0, nic).ok() || !bus.add(1, 5, disk).ok()) {
    __builtin_trap();
  }
  ConfigPorts ports(bus);
  Ecam ecam(bus, 2);

  for (int step = 0; step < 4096 && !input.done(); ++step) {
    const uint8_t op = input.u8();
    const uint8_t kind = op % 4;
    if (op >= 0xf8) {  // now and then (a snapshot copies every configuration space)
      snapshot::StateWriter out;
      bus.save(out);
      ports.save(out);
      snapshot::StateReader in(out.data());
      if (!bus.load(in).ok() || !ports.load(in).ok() || !in.at_end()) __builtin_trap();
    } else if (kind == 0 || kind == 1) {
      const uint64_t offset = input.u8() & 7;
      const unsigned sz = input.access_size();
      access(ports, offset, sz, input.u32(), kind == 0);
    } else {
      // Mostly bus 0, device 0 or 1: where the functions are.
      uint64_t offset = input.u32() & 0x1fffff;
      if (input.u8() < 0xe0) offset &= 0xffff;
      const unsigned sz = input.access_size();
      access(ecam, offset, sz, input.u64(), kind == 2);
    }
  }
  return 0;
}
