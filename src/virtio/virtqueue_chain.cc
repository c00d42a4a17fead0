// Popping available descriptor chains (virtio 1.2 2.7.13.2): reading the available ring and
// walking a chain, direct or through one indirect table, into host segments of guest RAM.
// Each descriptor is copied out of guest memory once and validated on the copy, so a driver
// that rewrites it meanwhile cannot slip anything past the checks.
#include <algorithm>
#include <atomic>
#include <limits>

#include "base/bits.h"
#include "virtio/ring_layout.h"
#include "virtio/virtqueue.h"

namespace cella::virtio {

namespace {

struct Descriptor {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};

// 2.7.5: struct virtq_desc, little-endian.
Descriptor read_descriptor(const uint8_t* table, uint32_t index) {
  const uint8_t* d = table + ring::kDescriptorSize * index;
  return {load_le<uint64_t>(d + ring::kDescAddr), load_le<uint32_t>(d + ring::kDescLen),
          load_le<uint16_t>(d + ring::kDescFlags), load_le<uint16_t>(d + ring::kDescNext)};
}

}  // namespace

Result<std::optional<DescriptorChain>> Virtqueue::pop() {
  if (!enabled_) return std::optional<DescriptorChain>{};
  const uint16_t available = load_available_index();
  const uint16_t pending = static_cast<uint16_t>(available - last_available_);
  // 2.7.6: idx is where the driver will put the next entry; it can be at most a full ring ahead
  // of what the device has consumed.
  if (pending > layout_.size) {
    return make_error(
        "virtqueue: the available idx {} is {} entries ahead of the device's {}, more than the "
        "queue size {}",
        available, pending, last_available_, layout_.size);
  }
  if (pending == 0) return std::optional<DescriptorChain>{};
  const uint16_t slot = last_available_ & static_cast<uint16_t>(layout_.size - 1);
  const uint16_t head = load_le<uint16_t>(rings_.available + ring::available_entry(slot));
  if (head >= layout_.size) {
    return make_error(
        "virtqueue: available ring entry {} names descriptor {}, beyond the queue size {}", slot,
        head, layout_.size);
  }
  Result<DescriptorChain> chain = read_chain(head);
  if (!chain) {
    return chain.error().context(fmt::format("virtqueue: descriptor chain at head {}", head));
  }
  ++last_available_;
  if (event_idx_ && notifications_) {
    // 2.7.10: keep asking for a notification on the next buffer the driver makes available; the
    // fence orders this store before the next pop's read of idx (which finds what the driver
    // published before it could see the new avail_event).
    ring::shared_u16(rings_.used + ring::avail_event_offset(layout_.size))
        .store(last_available_, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  return std::optional<DescriptorChain>(std::move(chain).value());
}

Result<DescriptorChain> Virtqueue::read_chain(uint16_t head) const {
  DescriptorChain chain;
  chain.head = head;
  const uint8_t* table = rings_.descriptors;
  uint32_t table_size = layout_.size;
  bool indirect = false;
  std::vector<uint8_t> table_copy;  // an indirect table that spans two RAM regions
  uint32_t index = head;
  uint32_t walked = 0;  // descriptors walked in the current table
  bool writable_seen = false;
  for (;;) {
    // 2.7.5.2 / 2.7.5.3.1: a chain is at most as long as its table; longer means a loop.
    if (++walked > table_size) {
      return make_error("more than {} descriptors in the {} table (a loop)", table_size,
                        indirect ? "indirect" : "descriptor");
    }
    const Descriptor d = read_descriptor(table, index);
    if ((d.flags & kDescFlagIndirect) != 0) {
      // 2.7.5.3.1: one table per descriptor, never chained onward. 2.7.5.3.2: the device
      // handles direct descriptors followed by a single indirect one, and ignores its WRITE.
      if (indirect) return make_error("indirect descriptor {} inside an indirect table", index);
      if ((d.flags & kDescFlagNext) != 0) {
        return make_error("indirect descriptor {} also has NEXT set", index);
      }
      if (d.len == 0 || d.len % ring::kDescriptorSize != 0 ||
          d.len / ring::kDescriptorSize > kMaxQueueSize) {
        return make_error(
            "indirect descriptor {}: table length {} is not a nonzero multiple of {} of at "
            "most {} entries",
            index, d.len, ring::kDescriptorSize, kMaxQueueSize);
      }
      table = memory_->host_range(d.addr, d.len);
      if (table == nullptr) {
        table_copy.resize(d.len);
        if (Result<void> r = memory_->read(d.addr, table_copy); !r) {
          return r.error().context(
              fmt::format("indirect descriptor {}: table {:#x}+{:#x}", index, d.addr, d.len));
        }
        table = table_copy.data();
      }
      table_size = static_cast<uint32_t>(d.len / ring::kDescriptorSize);
      indirect = true;
      index = 0;
      walked = 0;
      continue;
    }
    const bool writable = (d.flags & kDescFlagWrite) != 0;
    // 2.7.4.2: device-writable descriptors come after every device-readable one.
    if (!writable && writable_seen) {
      return make_error("descriptor {} is device-readable but follows a device-writable one",
                        index);
    }
    writable_seen = writable_seen || writable;
    (writable ? chain.writable_bytes : chain.readable_bytes) += d.len;
    // 2.7.5.2: a chain is at most 2^32 - 1 bytes (the used element's len is 32 bits).
    if (chain.readable_bytes + chain.writable_bytes > std::numeric_limits<uint32_t>::max()) {
      return make_error("descriptor {}: the chain is longer than {} bytes", index,
                        std::numeric_limits<uint32_t>::max());
    }
    if (d.len != 0) {
      Result<void> added = add_segments(d.addr, d.len, writable ? chain.writable : chain.readable);
      if (!added) return added.error().context(fmt::format("descriptor {}", index));
    }
    if ((d.flags & kDescFlagNext) == 0) return chain;
    if (d.next >= table_size) {
      return make_error("descriptor {}: next {} is beyond the {} table's {} entries", index, d.next,
                        indirect ? "indirect" : "descriptor", table_size);
    }
    index = d.next;
  }
}

Result<void> Virtqueue::add_segments(uint64_t guest, uint32_t length,
                                     std::vector<Segment>& out) const {
  // One segment per RAM region the buffer touches: each region is its own host mapping.
  uint64_t address = guest;
  uint64_t left = length;
  while (left > 0) {
    const memory::RamRegion* region = nullptr;
    for (const memory::RamRegion& r : memory_->regions()) {
      if (address - r.guest_physical < r.size) {
        region = &r;
        break;
      }
    }
    if (region == nullptr) {
      return make_error("buffer {:#x}+{:#x}: {:#x} is not RAM", guest, length, address);
    }
    const uint64_t offset = address - region->guest_physical;
    const uint64_t n = std::min(left, region->size - offset);
    out.push_back({address, region->host + offset, static_cast<uint32_t>(n)});
    address += n;
    left -= n;
  }
  return ok();
}

}  // namespace cella::virtio
