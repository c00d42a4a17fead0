#include "pci/host_bridge.h"

namespace cella::pci {

HostBridge::HostBridge() : config_(kIdentity) {
  // The bridge forwards memory and I/O cycles to the processor side from power-on.
  config_.set_u16(reg::kCommand, kCommandIoSpace | kCommandMemorySpace);
}

}  // namespace cella::pci
