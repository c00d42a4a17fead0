// What a user asks of a virtual machine: the guest to boot and the virtual hardware.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cella::machine {

// The engine that runs the vCPUs: the software CPU, or the host's KVM; `kAuto` picks KVM when
// the host offers it and the engine exists, else the software CPU.
enum class Engine { kSoft, kKvm, kAuto };

// A virtio-blk disk (`--disk PATH[,format=FMT][,readonly=on][,serial=ID]`).
struct DiskConfig {
  std::string path;
  std::string format;  // empty: probed
  bool read_only = false;
  std::string serial;  // the disk's ID (VIRTIO_BLK_T_GET_ID), at most 20 bytes
};

// Where the console (the terminal or pipe `cella run` runs on) is attached: COM1's 16550A
// (ttyS0) or a virtio-console (hvc0).
enum class ConsoleDevice { kSerial, kVirtio };

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
  std::vector<DiskConfig> disks;  // vda, vdb, ... in this order
  ConsoleDevice console = ConsoleDevice::kSerial;
};

}  // namespace cella::machine
