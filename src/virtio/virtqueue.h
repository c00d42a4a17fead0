// A split virtqueue as the device sees it (virtio 1.2 2.7): the driver's descriptor table,
// available ring and used ring in guest memory. The transport configures a queue when the
// driver enables it; the device pops available descriptor chains, turns them into host views of
// the guest's buffers, and pushes them back as used.
//
// Everything read from guest memory is untrusted: a chain that points outside RAM, loops, is
// longer than the queue, nests indirect tables, places a device-readable descriptor after a
// device-writable one, or an available index that runs ahead by more than the queue size is a
// driver error. pop() reports it as an Error naming the problem (the device then sets
// DEVICE_NEEDS_RESET, virtio 1.2 2.1.2); it never reads or writes host memory outside RAM.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/result.h"
#include "memory/guest_memory.h"
#include "snapshot/state_stream.h"

namespace cella::virtio {

// Virtio 1.2 2.7.5: struct virtq_desc flags.
inline constexpr uint16_t kDescFlagNext = 1;
inline constexpr uint16_t kDescFlagWrite = 2;
inline constexpr uint16_t kDescFlagIndirect = 4;
// Virtio 1.2 2.7.6: VIRTQ_AVAIL_F_NO_INTERRUPT; 2.7.8: VIRTQ_USED_F_NO_NOTIFY.
inline constexpr uint16_t kAvailFlagNoInterrupt = 1;
inline constexpr uint16_t kUsedFlagNoNotify = 1;
// Virtio 1.2 2.7: queue sizes are powers of two up to 32768.
inline constexpr uint16_t kMaxQueueSize = 32768;

// Where the driver placed the three parts of a queue (virtio 1.2 4.1.4.3: queue_desc,
// queue_driver, queue_device) and how many entries it has.
struct QueueLayout {
  uint16_t size = 0;
  uint64_t descriptors = 0;  // 16-byte aligned
  uint64_t available = 0;    // "driver area", 2-byte aligned
  uint64_t used = 0;         // "device area", 4-byte aligned
};

// One contiguous piece of a guest buffer, as a host pointer into guest RAM. A descriptor whose
// buffer crosses from one RAM region into another becomes several segments.
struct Segment {
  uint64_t guest = 0;
  uint8_t* host = nullptr;
  uint32_t length = 0;
};

// An available descriptor chain (virtio 1.2 2.7.13.2), direct or through an indirect table:
// the device-readable segments, then the device-writable ones, in the driver's order.
struct DescriptorChain {
  uint16_t head = 0;  // the id the device returns in the used ring
  std::vector<Segment> readable;
  std::vector<Segment> writable;
  uint64_t readable_bytes = 0;
  uint64_t writable_bytes = 0;
};

class Virtqueue {
 public:
  explicit Virtqueue(memory::GuestMemory& memory) : memory_(&memory) {}

  // The driver enabled the queue (queue_enable = 1) with `layout`; `event_idx` is whether
  // VIRTIO_F_EVENT_IDX (2.7.10) was negotiated. Refuses a size that is not a power of two in
  // [1, 32768], misaligned areas, or areas that are not entirely in one RAM region (the areas'
  // sizes count the EVENT_IDX fields, which the 2.7 table always includes).
  Result<void> enable(const QueueLayout& layout, bool event_idx);
  // Back to the disabled state of a device reset: no layout, indices zero.
  void reset();
  bool enabled() const { return enabled_; }
  const QueueLayout& layout() const { return layout_; }

  // The next available chain, nullopt when the driver has made none available since the last
  // pop, or an Error when the driver broke the rules above. Indirect descriptors (2.7.5.3) are
  // accepted whether or not VIRTIO_F_INDIRECT_DESC was negotiated: the queue does not know the
  // features, and a driver that uses them anyway breaks no host invariant. Zero-length
  // descriptors are allowed and produce no segment.
  Result<std::optional<DescriptorChain>> pop();
  // Returns `chain` to the driver with `written` bytes written to its writable segments (the
  // used element's len, 2.7.8; clamped to the chain's writable bytes). Chains may be pushed in
  // any order. Reports those bytes to GuestMemory's DMA-write observer before publishing.
  void push(const DescriptorChain& chain, uint32_t written);
  // The device wrote `segment` besides the leading bytes push() reports (virtio-blk's status
  // byte after a short transfer): tells the memory's DMA write observer.
  void note_written(const Segment& segment) const {
    memory_->note_dma_write(segment.guest, segment.length);
  }
  // Whether the driver asked for an interrupt for the chains pushed since the last call that
  // returned true: with EVENT_IDX, whether the used index passed used_event (2.7.10); without,
  // unless VIRTQ_AVAIL_F_NO_INTERRUPT is set (2.7.7). False when nothing was pushed since.
  bool needs_interrupt();
  // Device-side notification suppression (2.7.7, 2.7.10): with EVENT_IDX, avail_event tells the
  // driver to notify on its next buffer (and pop() keeps it there while notifications are
  // wanted); without, VIRTQ_USED_F_NO_NOTIFY is cleared or set.
  void set_notifications(bool wanted);

  uint16_t last_available() const { return last_available_; }
  uint16_t used_index() const { return used_index_; }

  // A "virtqueue" section: enabled, layout, event_idx, last_available, used_index, the used
  // index at the last interrupt, and whether notifications are wanted. load() re-checks the
  // layout against guest memory.
  void save(snapshot::StateWriter& out) const;
  Result<void> load(snapshot::StateReader& in);

 private:
  // Host views of the three areas, checked to be RAM at enable()/load() (they do not move while
  // the queue is enabled).
  struct Rings {
    uint8_t* descriptors = nullptr;
    uint8_t* available = nullptr;
    uint8_t* used = nullptr;
  };
  Result<Rings> map(const QueueLayout& layout) const;
  uint16_t load_available_index() const;  // acquire: the ring entries it covers are visible
  // Walks the chain that starts at `head` (virtqueue_chain.cc).
  Result<DescriptorChain> read_chain(uint16_t head) const;
  Result<void> add_segments(uint64_t guest, uint32_t length, std::vector<Segment>& out) const;

  memory::GuestMemory* memory_;
  QueueLayout layout_;
  Rings rings_;
  bool enabled_ = false;
  bool event_idx_ = false;
  bool notifications_ = true;     // the device's last set_notifications()
  uint16_t last_available_ = 0;   // the next available ring entry the device will read
  uint16_t used_index_ = 0;       // the device's used idx (free-running)
  uint16_t signalled_used_ = 0;   // used_index_ when the driver was last interrupted
  bool signalled_valid_ = false;  // false until the first interrupt decision
};

}  // namespace cella::virtio
