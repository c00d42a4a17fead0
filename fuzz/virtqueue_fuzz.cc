// Fuzzes the split virtqueue (virtio 1.2 2.7) from the device side: the input is a sequence of
// driver actions (raw bytes into RAM, descriptors, available entries and idx, suppression
// fields) and device actions (enable with a layout from the input, pop, push with any length,
// interrupt decisions, notification changes, snapshot round trips, reset). Fresh guest memory
// per input: RAM in two host mappings that are contiguous to the guest, a hole, more RAM.
// Every popped segment must be a host view of the RAM its guest address names, every DMA report
// must be RAM, and a snapshot must restore the same queue.
#include <cstdint>
#include <vector>

#include "fuzz/fuzz_guest_memory.h"
#include "fuzz/fuzz_input.h"
#include "virtio/ring_layout.h"
#include "virtio/virtqueue.h"

namespace {

using namespace cella;
using namespace cella::virtio;

// [0, 0x3000) and [0x3000, 0x4000) in two host mappings, a hole, RAM from 0x6000.
constexpr fuzzing::FuzzRamLayout kRam{0x3000, 0x1000, 0x6000, 0x2000};
constexpr size_t kMaxInFlight = 64;

enum Op : uint8_t {
  kEnable,
  kWriteBytes,
  kWriteDescriptor,
  kMakeAvailable,
  kPop,
  kPush,
  kNeedsInterrupt,
  kSetNotifications,
  kDriverSuppression,
  kSnapshot,
  kReset,
  kOpCount,
};

void check_segments(const memory::GuestMemory& memory, const std::vector<Segment>& segments,
                    uint64_t bytes) {
  uint64_t total = 0;
  for (const Segment& s : segments) {
    if (s.length == 0) __builtin_trap();
    uint8_t* expected = memory.host_range(s.guest, s.length);
    if (expected == nullptr || expected != s.host) __builtin_trap();
    total += s.length;
  }
  if (total != bytes) __builtin_trap();
}

void poke_u16(memory::GuestMemory& memory, uint64_t address, uint16_t value) {
  const uint8_t bytes[2] = {static_cast<uint8_t>(value), static_cast<uint8_t>(value >> 8)};
  (void)memory.write(address, bytes);
}

void snapshot_round_trip(memory::GuestMemory& memory, Virtqueue& queue) {
  snapshot::StateWriter out;
  queue.save(out);
  Virtqueue restored(memory);
  snapshot::StateReader in(out.data());
  if (!restored.load(in).ok() || !in.at_end()) __builtin_trap();
  if (restored.enabled() != queue.enabled() || restored.used_index() != queue.used_index() ||
      restored.last_available() != queue.last_available() ||
      restored.layout().descriptors != queue.layout().descriptors ||
      restored.layout().available != queue.layout().available ||
      restored.layout().used != queue.layout().used ||
      restored.layout().size != queue.layout().size) {
    __builtin_trap();
  }
  snapshot::StateWriter again;
  restored.save(again);
  if (again.data() != out.data()) __builtin_trap();
  queue = restored;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzzing::FuzzInput input(data, size);
  memory::GuestMemory memory;
  fuzzing::set_up_guest_memory(memory, kRam);
  Virtqueue queue(memory);
  std::vector<DescriptorChain> in_flight;

  for (int step = 0; step < 4096 && !input.done(); ++step) {
    const QueueLayout& layout = queue.layout();
    switch (static_cast<Op>(input.u8() % kOpCount)) {
      case kEnable: {
        const uint8_t code = input.u8();
        QueueLayout l;
        l.size = (code & 0x80) != 0 ? input.u16() : static_cast<uint16_t>(1u << (code % 16));
        l.descriptors = input.u16();
        l.available = input.u16();
        l.used = input.u16();
        const bool event_idx = (input.u8() & 1) != 0;
        if (queue.enable(l, event_idx).ok()) in_flight.clear();
        break;
      }
      case kWriteBytes:
        fuzzing::write_input_bytes(memory, input);
        break;
      case kWriteDescriptor: {
        const uint64_t at = layout.descriptors + ring::kDescriptorSize * input.u8();
        uint8_t d[ring::kDescriptorSize] = {};
        const uint16_t addr = input.u16();
        const uint16_t len = input.u16();
        d[0] = static_cast<uint8_t>(addr);
        d[1] = static_cast<uint8_t>(addr >> 8);
        d[8] = static_cast<uint8_t>(len);
        d[9] = static_cast<uint8_t>(len >> 8);
        d[12] = input.u8() & 7;
        d[14] = input.u8();
        d[15] = input.u8();
        (void)memory.write(at, d);
        break;
      }
      case kMakeAvailable: {
        const uint8_t slot = input.u8();
        const uint16_t head = input.u16();
        const uint8_t advance = input.u8();
        if (!queue.enabled()) break;
        poke_u16(memory, layout.available + ring::available_entry(slot % layout.size), head);
        poke_u16(memory, layout.available + ring::kRingIndex,
                 static_cast<uint16_t>(queue.last_available() + advance));
        break;
      }
      case kPop: {
        Result<std::optional<DescriptorChain>> popped = queue.pop();
        if (!popped.ok()) {
          if (popped.error().message().empty()) __builtin_trap();
          break;
        }
        if (!popped->has_value()) break;
        const DescriptorChain& chain = **popped;
        if (chain.head >= layout.size) __builtin_trap();
        check_segments(memory, chain.readable, chain.readable_bytes);
        check_segments(memory, chain.writable, chain.writable_bytes);
        if (chain.readable_bytes + chain.writable_bytes > UINT32_MAX) __builtin_trap();
        if (in_flight.size() < kMaxInFlight) in_flight.push_back(std::move(**popped));
        break;
      }
      case kPush: {
        const uint8_t which = input.u8();
        const uint32_t written = input.u32();
        if (in_flight.empty()) break;
        const size_t i = which % in_flight.size();
        const uint16_t before = queue.used_index();
        queue.push(in_flight[i], written);
        if (queue.used_index() != static_cast<uint16_t>(before + 1)) __builtin_trap();
        in_flight.erase(in_flight.begin() + static_cast<ptrdiff_t>(i));
        break;
      }
      case kNeedsInterrupt:
        (void)queue.needs_interrupt();
        break;
      case kSetNotifications:
        queue.set_notifications((input.u8() & 1) != 0);
        break;
      case kDriverSuppression: {
        const uint16_t flags = input.u16();
        const uint16_t used_event = input.u16();
        if (!queue.enabled()) break;
        poke_u16(memory, layout.available + ring::kRingFlags, flags);
        poke_u16(memory, layout.available + ring::used_event_offset(layout.size), used_event);
        break;
      }
      case kSnapshot:
        snapshot_round_trip(memory, queue);
        break;
      case kReset:
        queue.reset();
        in_flight.clear();
        break;
      case kOpCount:
        break;
    }
  }
  return 0;
}
