// What a user asks of a virtual machine: the guest to boot and the virtual hardware.
#pragma once

#include <cstdint>
#include <string>

namespace cella::machine {

// The engine that runs the vCPUs: the software CPU, or the host's KVM; `kAuto` picks KVM when
// the host offers it and the engine exists, else the software CPU.
enum class Engine { kSoft, kKvm, kAuto };

struct MachineConfig {
  std::string kernel_path;
  std::string initrd_path;  // empty: none
  std::string cmdline;
  uint64_t memory_bytes = 512ull << 20;
  unsigned cpus = 1;
  Engine engine = Engine::kAuto;
  // A bzImage's compressed kernel is unpacked on the host and its ELF booted directly
  // (machine/boot/kernel_payload.h); true runs the kernel's own decompressor in the guest.
  bool decompress_in_guest = false;
};

}  // namespace cella::machine
