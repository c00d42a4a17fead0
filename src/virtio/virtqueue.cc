// The split virtqueue's device side (virtio 1.2 2.7): enabling, returning used buffers and
// notification suppression. Popping chains is in virtqueue_chain.cc, snapshots in
// virtqueue_state.cc.
#include "virtio/virtqueue.h"

#include <algorithm>
#include <atomic>

#include "base/bits.h"
#include "virtio/ring_layout.h"

namespace cella::virtio {

namespace {

struct Area {
  const char* name;
  uint64_t alignment;
  uint64_t (*bytes)(uint32_t size);
};

// Virtio 1.2 2.7, "Queue Part" table, and 4.1.4.3 (queue_desc, queue_driver, queue_device).
constexpr Area kAreas[] = {
    {"descriptor table", ring::kDescriptorAlignment, ring::descriptor_table_bytes},
    {"driver area (available ring)", ring::kAvailableAlignment, ring::available_ring_bytes},
    {"device area (used ring)", ring::kUsedAlignment, ring::used_ring_bytes},
};

}  // namespace

Result<Virtqueue::Rings> Virtqueue::map(const QueueLayout& layout) const {
  // Virtio 1.2 2.7: "Queue Size ... is always a power of 2", at most 32768.
  if (layout.size == 0 || layout.size > kMaxQueueSize || !is_power_of_two(layout.size)) {
    return make_error("virtqueue: size {} is not a power of two in [1, {}]", layout.size,
                      kMaxQueueSize);
  }
  const uint64_t addresses[] = {layout.descriptors, layout.available, layout.used};
  uint8_t* hosts[3] = {};
  for (size_t i = 0; i < std::size(kAreas); ++i) {
    const Area& area = kAreas[i];
    const uint64_t bytes = area.bytes(layout.size);
    if (addresses[i] % area.alignment != 0) {
      return make_error("virtqueue: {} at {:#x} is not {}-byte aligned", area.name, addresses[i],
                        area.alignment);
    }
    hosts[i] = memory_->host_range(addresses[i], bytes);
    if (hosts[i] == nullptr) {
      return make_error("virtqueue: {} at {:#x} ({:#x} bytes for {} entries) is not RAM", area.name,
                        addresses[i], bytes, layout.size);
    }
  }
  return Rings{hosts[0], hosts[1], hosts[2]};
}

Result<void> Virtqueue::enable(const QueueLayout& layout, bool event_idx) {
  CELLA_TRY_ASSIGN(rings, map(layout));
  reset();
  layout_ = layout;
  rings_ = rings;
  event_idx_ = event_idx;
  enabled_ = true;
  return ok();
}

void Virtqueue::reset() {
  layout_ = {};
  rings_ = {};
  enabled_ = false;
  event_idx_ = false;
  notifications_ = true;
  last_available_ = 0;
  used_index_ = 0;
  signalled_used_ = 0;
  signalled_valid_ = false;
}

uint16_t Virtqueue::load_available_index() const {
  // 2.7.13.2 (and 2.7.13.3.1 on the driver side): the driver writes the ring entries before
  // idx; acquire makes them visible to the reads that follow.
  return ring::shared_u16(rings_.available + ring::kRingIndex).load(std::memory_order_acquire);
}

void Virtqueue::push(const DescriptorChain& chain, uint32_t written) {
  if (!enabled_) return;
  // 2.7.8: len is the number of bytes written into the device-writable part; the device never
  // claims more than the buffer has.
  written = static_cast<uint32_t>(std::min<uint64_t>(written, chain.writable_bytes));
  uint64_t left = written;
  for (const Segment& segment : chain.writable) {
    if (left == 0) break;
    const uint64_t n = std::min<uint64_t>(left, segment.length);
    memory_->note_dma_write(segment.guest, n);
    left -= n;
  }
  // 2.7.8.2 / 2.7.13.4: write the used element, then publish it by advancing idx (release).
  uint8_t* element =
      rings_.used + ring::used_entry(used_index_ & static_cast<uint16_t>(layout_.size - 1));
  store_le<uint32_t>(element + ring::kUsedElemId, chain.head);
  store_le<uint32_t>(element + ring::kUsedElemLen, written);
  ++used_index_;
  ring::shared_u16(rings_.used + ring::kRingIndex).store(used_index_, std::memory_order_release);
}

bool Virtqueue::needs_interrupt() {
  if (!enabled_) return false;
  // Nothing pushed since the last interrupt (or since enable, when signalled_used_ is 0 too).
  if (used_index_ == signalled_used_) return false;
  // 2.7.10 / 2.7.7: the used idx store must be visible before the driver's suppression fields
  // are read, or the driver may miss an interrupt it asked for: a full barrier.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  bool wanted;
  if (event_idx_) {
    // 2.7.10: interrupt when the used idx moved past used_event since the last interrupt.
    const uint16_t used_event =
        ring::shared_u16(rings_.available + ring::used_event_offset(layout_.size))
            .load(std::memory_order_relaxed);
    wanted = !signalled_valid_ || ring::need_event(used_event, used_index_, signalled_used_);
  } else {
    // 2.7.7: without EVENT_IDX, VIRTQ_AVAIL_F_NO_INTERRUPT asks the device not to interrupt.
    const uint16_t flags =
        ring::shared_u16(rings_.available + ring::kRingFlags).load(std::memory_order_relaxed);
    wanted = (flags & kAvailFlagNoInterrupt) == 0;
  }
  if (wanted) {
    signalled_used_ = used_index_;
    signalled_valid_ = true;
  }
  return wanted;
}

void Virtqueue::set_notifications(bool wanted) {
  if (!enabled_) return;
  notifications_ = wanted;
  if (event_idx_) {
    // 2.7.10: the driver notifies when its avail idx moves past avail_event. Wanting
    // notifications means "tell me about the next buffer": avail_event = the current idx. Not
    // wanting them leaves avail_event behind (pop() stops advancing it).
    if (wanted) {
      ring::shared_u16(rings_.used + ring::avail_event_offset(layout_.size))
          .store(load_available_index(), std::memory_order_relaxed);
    }
  } else {
    // 2.7.7: VIRTQ_USED_F_NO_NOTIFY.
    ring::shared_u16(rings_.used + ring::kRingFlags)
        .store(wanted ? 0 : kUsedFlagNoNotify, std::memory_order_relaxed);
  }
  // 2.7.7 / 2.7.10: the device re-checks the available ring after enabling notifications; the
  // store above must be visible before that read.
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

}  // namespace cella::virtio
