#include "machine/pci_devices.h"

#include "block/format_registry.h"

namespace cella::machine {

PciDevices::~PciDevices() = default;

Result<std::unique_ptr<PciDevices>> PciDevices::create(const MachineConfig& config,
                                                       PcPlatform& platform,
                                                       memory::GuestMemory& memory,
                                                       devices::CompletionQueue& completions,
                                                       devices::CharBackend* console) {
  if (config.disks.size() > kMaxDisks) {
    return make_error("{} disks: at most {} are supported", config.disks.size(), kMaxDisks);
  }
  std::unique_ptr<PciDevices> devices(new PciDevices());
  for (size_t i = 0; i < config.disks.size(); ++i) {
    const DiskConfig& disk = config.disks[i];
    block::OpenOptions options;
    options.read_only = disk.read_only;
    options.format = disk.format;
    auto image = block::open_image(disk.path, options);
    if (!image) return image.error().context(fmt::format("--disk {}", disk.path));
    const std::string thread_name = fmt::format("cella-vd{}", static_cast<char>('a' + i));
    devices->io_threads_.push_back(std::make_unique<devices::IoThread>(thread_name, completions));
    virtio::BlkOptions blk_options;
    blk_options.read_only = disk.read_only;
    blk_options.serial = disk.serial;
    devices->disks_.push_back(std::make_unique<virtio::VirtioBlk>(
        std::move(*image), *devices->io_threads_.back(), blk_options));
    CELLA_TRY(devices->plug(platform, memory, *devices->disks_.back()));
  }
  if (config.console == ConsoleDevice::kVirtio) {
    devices->console_ = std::make_unique<virtio::VirtioConsole>(console);
    CELLA_TRY(devices->plug(platform, memory, *devices->console_));
  }
  devices->rng_ = std::make_unique<virtio::VirtioRng>();
  CELLA_TRY(devices->plug(platform, memory, *devices->rng_));
  return devices;
}

Result<void> PciDevices::plug(PcPlatform& platform, memory::GuestMemory& memory,
                              virtio::VirtioDevice& device) {
  CELLA_TRY_ASSIGN(transport, virtio::PciTransport::create(device, memory, &platform));
  CELLA_TRY_ASSIGN(intx,
                   platform.attach_pci_function(next_slot_, transport->config_space(), *transport));
  transport->set_intx(intx);
  transports_.push_back(std::move(transport));
  ++next_slot_;
  return ok();
}

void PciDevices::wait_idle() {
  for (auto& thread : io_threads_) thread->wait_idle();
}

}  // namespace cella::machine
