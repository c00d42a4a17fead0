// Fuzzes virtio-blk behind the virtio PCI transport (virtio 1.2 4.1, 5.2) from the driver side:
// the input is a sequence of driver actions — BAR 0 and configuration space accesses of any
// width, feature negotiation with any bits, queue setup with any layout, raw descriptors and
// bytes in guest RAM, well-formed requests with any type, sector and data shape, doorbells,
// completions, resets and snapshot round trips into a fresh transport and device. Fresh guest
// memory (two host mappings contiguous to the guest, a hole, more RAM), transport, device and a
// 64 KiB raw image (a memfd) per input. The device must not crash, hang or write outside guest
// RAM, and FEATURES_OK may only stand for features the device offered, VERSION_1 included.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "block/raw/raw_image.h"
#include "devices/io_thread.h"
#include "fuzz/fuzz_guest_memory.h"
#include "fuzz/fuzz_input.h"
#include "snapshot/state_stream.h"
#include "virtio/blk/virtio_blk.h"
#include "virtio/pci_layout.h"
#include "virtio/pci_transport.h"
#include "virtio/ring_layout.h"

namespace {

using namespace cella;
using namespace cella::virtio;
namespace common = pci_layout::common;

// Every 16-bit address is RAM or the hole.
// [0, 0x8000) and [0x8000, 0xc000) in two host mappings, a hole, RAM from 0xd000.
constexpr fuzzing::FuzzRamLayout kRam{0x8000, 0x4000, 0xd000, 0x3000};
constexpr uint64_t kDiskSize = 64 * 1024;

enum Op : uint8_t {
  kBarWrite,
  kBarRead,
  kConfigWrite,
  kNegotiate,
  kSetupQueue,
  kDriverOk,
  kWriteBytes,
  kWriteDescriptor,
  kRequest,
  kMakeAvailable,
  kNotify,
  kRunCompletions,
  kDriverReset,
  kMachineReset,
  kSnapshot,
  kOpCount,
};

class NullMsi final : public pci::MsiSink {
 public:
  void send_msi(uint64_t, uint32_t) override {}
};

std::unique_ptr<block::BlockImage> open_disk(int fd) {
  auto file =
      block::HostFile::open("/proc/self/fd/" + std::to_string(fd), block::Access::kReadWrite);
  if (!file.ok()) __builtin_trap();
  return std::make_unique<block::RawImage>(std::move(*file), kDiskSize, false);
}

// A transport, its device and the device's disk (a fresh RawImage over the shared memfd).
struct Stack {
  std::unique_ptr<VirtioBlk> blk;
  std::unique_ptr<PciTransport> transport;
};

Stack make_stack(int fd, memory::GuestMemory& memory, devices::WorkQueue& work, pci::MsiSink& msi,
                 bool read_only) {
  Stack stack;
  stack.blk = std::make_unique<VirtioBlk>(open_disk(fd), work, BlkOptions{read_only, "fuzz"});
  auto transport = PciTransport::create(*stack.blk, memory, &msi);
  if (!transport.ok()) __builtin_trap();
  stack.transport = std::move(*transport);
  return stack;
}

void bar_write(PciTransport& t, uint64_t offset, uint64_t value, unsigned size) {
  uint8_t bytes[8];
  for (unsigned i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(value >> (8 * i));
  t.write(offset, {bytes, size});
}
uint64_t bar_read(PciTransport& t, uint64_t offset, unsigned size) {
  uint8_t bytes[8] = {};
  t.read(offset, {bytes, size});
  uint64_t value = 0;
  for (unsigned i = 0; i < size; ++i) value |= uint64_t{bytes[i]} << (8 * i);
  return value;
}
void common_write(PciTransport& t, uint64_t field, uint64_t value, unsigned size) {
  bar_write(t, pci_layout::kCommonOffset + field, value, size);
}
uint64_t common_read(PciTransport& t, uint64_t field, unsigned size) {
  return bar_read(t, pci_layout::kCommonOffset + field, size);
}

void put(memory::GuestMemory& memory, uint64_t address, uint64_t value, unsigned size) {
  uint8_t bytes[8];
  for (unsigned i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(value >> (8 * i));
  (void)memory.write(address, {bytes, size});
}

// A descriptor in the table at `table` (2.7.5).
void put_descriptor(memory::GuestMemory& memory, uint64_t table, uint16_t index, uint64_t addr,
                    uint32_t len, uint16_t flags, uint16_t next) {
  const uint64_t at = table + ring::kDescriptorSize * index;
  put(memory, at + ring::kDescAddr, addr, 8);
  put(memory, at + ring::kDescLen, len, 4);
  put(memory, at + ring::kDescFlags, flags, 2);
  put(memory, at + ring::kDescNext, next, 2);
}

// FEATURES_OK must only stand for offered features including VERSION_1 (3.1.1).
void check_features(PciTransport& t) {
  if ((t.status() & status::kFeaturesOk) == 0) return;
  const uint64_t device_select = common_read(t, common::kDeviceFeatureSelect, 4);
  const uint64_t driver_select = common_read(t, common::kDriverFeatureSelect, 4);
  uint64_t offered = 0, accepted = 0;
  for (uint32_t select = 0; select < 2; ++select) {
    common_write(t, common::kDeviceFeatureSelect, select, 4);
    offered |= common_read(t, common::kDeviceFeature, 4) << (32 * select);
    common_write(t, common::kDriverFeatureSelect, select, 4);
    accepted |= common_read(t, common::kDriverFeature, 4) << (32 * select);
  }
  if ((accepted & ~offered) != 0 || !t.negotiated(feature::kVersion1)) __builtin_trap();
  common_write(t, common::kDeviceFeatureSelect, device_select, 4);
  common_write(t, common::kDriverFeatureSelect, driver_select, 4);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzzing::FuzzInput input(data, size);
  memory::GuestMemory memory;
  fuzzing::set_up_guest_memory(memory, kRam);
  const int fd = ::memfd_create("virtio-blk-fuzz", MFD_CLOEXEC);
  if (fd < 0 || ::ftruncate(fd, kDiskSize) != 0) __builtin_trap();
  auto completions = devices::CompletionQueue::create();
  if (!completions.ok()) __builtin_trap();
  devices::InlineWorkQueue work(**completions);
  NullMsi msi;
  const bool read_only = (input.u8() & 1) != 0;
  Stack stack = make_stack(fd, memory, work, msi, read_only);

  // The driver's view of queue 0, as it configured it.
  QueueLayout layout;
  uint16_t avail_idx = 0;

  for (int step = 0; step < 2048 && !input.done(); ++step) {
    PciTransport& t = *stack.transport;
    switch (static_cast<Op>(input.u8() % kOpCount)) {
      case kBarWrite: {
        const uint64_t offset = input.u16() % pci_layout::kBarSize;
        const unsigned width = input.access_size();
        bar_write(t, offset, input.u64(), width);
        break;
      }
      case kBarRead: {
        const uint64_t offset = input.u16() % pci_layout::kBarSize;
        (void)bar_read(t, offset, input.access_size());
        break;
      }
      case kConfigWrite: {
        const uint16_t offset = input.u8();
        const unsigned width = 1u << (input.u8() % 3);
        t.config_space().write(static_cast<uint16_t>(offset & ~(width - 1)), width, input.u32());
        break;
      }
      case kNegotiate: {
        const uint64_t features = input.u64();
        common_write(t, common::kDeviceStatus, status::kAcknowledge | status::kDriver, 1);
        for (uint32_t select = 0; select < 2; ++select) {
          common_write(t, common::kDriverFeatureSelect, select, 4);
          common_write(t, common::kDriverFeature, features >> (32 * select) & 0xffffffff, 4);
        }
        common_write(t, common::kDeviceStatus,
                     status::kAcknowledge | status::kDriver | status::kFeaturesOk, 1);
        break;
      }
      case kSetupQueue: {
        const uint8_t code = input.u8();
        layout.size = (code & 0x80) != 0 ? input.u16() : static_cast<uint16_t>(1u << (code % 10));
        layout.descriptors = input.u16();
        layout.available = input.u16();
        layout.used = input.u16();
        avail_idx = 0;
        common_write(t, common::kQueueSelect, input.u8() % 2, 2);
        common_write(t, common::kQueueSize, layout.size, 2);
        common_write(t, common::kQueueDesc, layout.descriptors, 8);
        common_write(t, common::kQueueDriver, layout.available, 8);
        common_write(t, common::kQueueDevice, layout.used, 8);
        common_write(t, common::kQueueEnable, 1, 2);
        break;
      }
      case kDriverOk:
        common_write(t, common::kDeviceStatus, t.status() | status::kDriverOk, 1);
        break;
      case kWriteBytes:
        fuzzing::write_input_bytes(memory, input);
        break;
      case kWriteDescriptor: {
        const uint16_t index = input.u8();
        const uint64_t addr = input.u16();
        const uint32_t len = input.u16();
        const uint16_t flags = input.u8() & 7;
        put_descriptor(memory, layout.descriptors, index, addr, len, flags, input.u8());
        break;
      }
      case kRequest: {
        // A chain of header, data and status in descriptors [first, first + 3), direct or
        // indirect, with any type, sector and data size.
        const uint16_t first = input.u8();
        const uint64_t header = input.u16() & ~uint64_t{15};
        const uint8_t type = input.u8();
        const uint64_t sector = (type & 0x80) != 0 ? input.u64() : input.u8();
        const uint32_t length = input.u16();
        const uint64_t buffer = input.u16();
        const bool indirect = (type & 0x40) != 0;
        put(memory, header, type & 0x0f, 4);
        put(memory, header + 4, 0, 4);
        put(memory, header + 8, sector, 8);
        const bool to_guest = (type & 0x0f) == 0 || (type & 0x0f) == 8;
        const uint64_t table = indirect ? header + 0x20 : layout.descriptors;
        const uint16_t base = indirect ? 0 : first;
        put_descriptor(memory, table, base, header, 16, kDescFlagNext,
                       static_cast<uint16_t>(base + 1));
        put_descriptor(memory, table, static_cast<uint16_t>(base + 1), buffer, length,
                       static_cast<uint16_t>(kDescFlagNext | (to_guest ? kDescFlagWrite : 0)),
                       static_cast<uint16_t>(base + 2));
        put_descriptor(memory, table, static_cast<uint16_t>(base + 2), header + 16, 1,
                       kDescFlagWrite, 0);
        if (indirect) {
          put_descriptor(memory, layout.descriptors, first, table, 3 * ring::kDescriptorSize,
                         kDescFlagIndirect, 0);
        }
        if (layout.size != 0) {
          put(memory, layout.available + ring::available_entry(avail_idx % layout.size), first, 2);
        }
        ++avail_idx;
        put(memory, layout.available + ring::kRingIndex, avail_idx, 2);
        break;
      }
      case kMakeAvailable: {
        const uint16_t head = input.u16();
        const uint8_t advance = input.u8();
        if (layout.size != 0) {
          put(memory, layout.available + ring::available_entry(avail_idx % layout.size), head, 2);
        }
        avail_idx = static_cast<uint16_t>(avail_idx + advance);
        put(memory, layout.available + ring::kRingIndex, avail_idx, 2);
        break;
      }
      case kNotify:
        bar_write(t, pci_layout::kNotifyOffset + (input.u8() % 2) * pci_layout::kNotifyMultiplier,
                  0, 2);
        break;
      case kRunCompletions:
        (*completions)->run_posted();
        break;
      case kDriverReset:
        common_write(t, common::kDeviceStatus, 0, 1);
        avail_idx = 0;
        break;
      case kMachineReset:
        t.reset();
        avail_idx = 0;
        break;
      case kSnapshot: {
        // The machine saves with the I/O threads idle and their completions run.
        (*completions)->run_posted();
        snapshot::StateWriter out;
        t.config_space().save(out);
        t.save(out);
        stack = {};  // one writer per image: the old disk lets go of its lock first
        Stack restored = make_stack(fd, memory, work, msi, read_only);
        snapshot::StateReader in(out.data());
        Result<void> loaded = restored.transport->config_space().load(in);
        if (loaded.ok()) loaded = restored.transport->load(in);
        if (!loaded.ok()) {
          std::fprintf(stderr, "snapshot not restored: %s\n", loaded.error().message().c_str());
          __builtin_trap();
        }
        if (!in.at_end()) __builtin_trap();
        stack = std::move(restored);
        break;
      }
      case kOpCount:
        break;
    }
    check_features(*stack.transport);
  }
  (*completions)->run_posted();
  stack = {};
  ::close(fd);
  return 0;
}
