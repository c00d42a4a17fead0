// The PCI devices of a machine beyond the host bridge: a virtio-blk function per disk (slots 1
// and up, in the order given, so the guest names them vda, vdb, ...), the virtio-console when
// the console is on virtio, and a virtio-rng. Each disk has its own I/O thread; completions
// come back through the machine's CompletionQueue.
#pragma once

#include <memory>
#include <vector>

#include "devices/chardev.h"
#include "devices/io_thread.h"
#include "machine/machine_config.h"
#include "machine/pc_platform.h"
#include "memory/guest_memory.h"
#include "virtio/blk/virtio_blk.h"
#include "virtio/console/virtio_console.h"
#include "virtio/pci_transport.h"
#include "virtio/rng/virtio_rng.h"

namespace cella::machine {

class PciDevices {
 public:
  // The first slot after the host bridge (slot 0).
  static constexpr uint8_t kFirstSlot = 1;
  static constexpr size_t kMaxDisks = 16;

  // Opens every disk (an error names the disk) and plugs the devices into `platform`.
  // `console` is the virtio-console's backend when config.console is kVirtio.
  static Result<std::unique_ptr<PciDevices>> create(const MachineConfig& config,
                                                    PcPlatform& platform,
                                                    memory::GuestMemory& memory,
                                                    devices::CompletionQueue& completions,
                                                    devices::CharBackend* console);
  ~PciDevices();

  // The virtio-console, for console input; null when the console is the UART.
  virtio::VirtioConsole* console() { return console_.get(); }
  const std::vector<std::unique_ptr<virtio::VirtioBlk>>& disks() const { return disks_; }
  // Blocks until every disk's I/O thread has no request left (their completions are posted).
  void wait_idle();

 private:
  PciDevices() = default;
  Result<void> plug(PcPlatform& platform, memory::GuestMemory& memory,
                    virtio::VirtioDevice& device);

  // Declaration order is destruction order in reverse: the I/O threads go first (they finish
  // the requests they hold, which use the disks), then the transports, then the devices.
  std::vector<std::unique_ptr<virtio::VirtioBlk>> disks_;
  std::unique_ptr<virtio::VirtioConsole> console_;
  std::unique_ptr<virtio::VirtioRng> rng_;
  std::vector<std::unique_ptr<virtio::PciTransport>> transports_;
  std::vector<std::unique_ptr<devices::IoThread>> io_threads_;
  uint8_t next_slot_ = kFirstSlot;
};

}  // namespace cella::machine
