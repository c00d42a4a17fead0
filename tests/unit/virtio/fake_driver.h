// FakeDriver: the driver side of one split virtqueue (virtio 1.2 2.7), for device tests. It lays
// out the rings in a GuestMemory and adds chains the way Linux's virtio_ring does: descriptors
// come from a free list threaded through their `next` fields, a chain is either direct or one
// descriptor pointing at an indirect table, entries go into the available ring and become
// visible to the device when publish() stores the available idx; used entries are read back
// in order and their descriptors return to the free list. Raw setters let tests build
// malformed queues.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/bits.h"
#include "memory/guest_memory.h"
#include "virtio/ring_layout.h"
#include "virtio/virtqueue.h"

namespace cella::virtio::testing {

struct Buffer {
  uint64_t guest = 0;
  uint32_t length = 0;
  bool writable = false;
};

struct UsedElement {
  uint32_t id = 0;
  uint32_t len = 0;
};

class FakeDriver {
 public:
  // The legacy contiguous layout (virtio 1.2 2.7.2): descriptor table at `base`, the available
  // ring right after it, the used ring at the next 4 KiB boundary. `heap` is where indirect
  // tables go (a bump allocator that wraps after `heap_size` bytes).
  static QueueLayout contiguous_layout(uint64_t base, uint16_t size) {
    const uint64_t available = base + ring::descriptor_table_bytes(size);
    return {size, base, available, align_up(available + ring::available_ring_bytes(size), 4096)};
  }

  FakeDriver(memory::GuestMemory& memory, const QueueLayout& layout, uint64_t heap,
             uint64_t heap_size)
      : memory_(memory),
        layout_(layout),
        heap_(heap),
        heap_size_(heap_size),
        free_next_(layout.size),
        chain_length_(layout.size) {
    for (uint32_t i = 0; i < layout.size; ++i) free_next_[i] = static_cast<uint16_t>(i + 1);
    free_count_ = layout.size;
  }

  const QueueLayout& layout() const { return layout_; }
  uint16_t free_descriptors() const { return free_count_; }

  // Adds a chain of `buffers` (readable ones first, as 2.7.4.2 requires of drivers) and
  // returns its head. The device sees it after publish().
  uint16_t add(std::span<const Buffer> buffers, bool indirect = false) {
    const uint16_t head = free_head_;
    if (indirect) {
      const uint64_t table = allocate(ring::kDescriptorSize * buffers.size());
      for (size_t i = 0; i < buffers.size(); ++i) {
        const bool last = i + 1 == buffers.size();
        write_descriptor_at(table, static_cast<uint16_t>(i), buffers[i].guest, buffers[i].length,
                            flags_of(buffers[i], last), static_cast<uint16_t>(last ? 0 : i + 1));
      }
      take_descriptors(1);
      write_descriptor(head, table, static_cast<uint32_t>(ring::kDescriptorSize * buffers.size()),
                       kDescFlagIndirect, free_next_[head]);
      chain_length_[head] = 1;
    } else {
      EXPECT_LE(buffers.size(), free_count_) << "FakeDriver: out of descriptors";
      uint16_t i = head;
      for (size_t n = 0; n < buffers.size(); ++n) {
        const bool last = n + 1 == buffers.size();
        write_descriptor(i, buffers[n].guest, buffers[n].length, flags_of(buffers[n], last),
                         free_next_[i]);
        i = free_next_[i];
      }
      take_descriptors(static_cast<uint16_t>(buffers.size()));
      chain_length_[head] = static_cast<uint16_t>(buffers.size());
    }
    set_avail_entry(avail_shadow_ & static_cast<uint16_t>(layout_.size - 1), head);
    ++avail_shadow_;
    return head;
  }
  uint16_t add(std::initializer_list<Buffer> buffers, bool indirect = false) {
    return add(std::span<const Buffer>(buffers.begin(), buffers.size()), indirect);
  }

  // Makes every added chain available (the store of idx after the entries, 2.7.13.3.1).
  void publish() { set_avail_idx(avail_shadow_); }

  // The next used element, if the device has returned one; its descriptors become free.
  std::optional<UsedElement> next_used() {
    if (used_idx() == last_used_) return std::nullopt;
    const uint64_t element =
        layout_.used + ring::used_entry(last_used_ & static_cast<uint16_t>(layout_.size - 1));
    const UsedElement used{peek<uint32_t>(element + ring::kUsedElemId),
                           peek<uint32_t>(element + ring::kUsedElemLen)};
    ++last_used_;
    EXPECT_LT(used.id, layout_.size) << "device returned a bad id";
    if (used.id < layout_.size) release(static_cast<uint16_t>(used.id));
    return used;
  }

  // Notification suppression, the driver's side (2.7.7, 2.7.10).
  void set_no_interrupt(bool on) {
    poke<uint16_t>(layout_.available + ring::kRingFlags, on ? kAvailFlagNoInterrupt : 0);
  }
  void set_used_event(uint16_t value) {
    poke<uint16_t>(layout_.available + ring::used_event_offset(layout_.size), value);
  }
  uint16_t avail_event() const {
    return peek<uint16_t>(layout_.used + ring::avail_event_offset(layout_.size));
  }
  uint16_t used_flags() const { return peek<uint16_t>(layout_.used + ring::kRingFlags); }
  uint16_t used_idx() const { return peek<uint16_t>(layout_.used + ring::kRingIndex); }

  // Raw access for malformed queues.
  void write_descriptor(uint16_t index, uint64_t addr, uint32_t len, uint16_t flags,
                        uint16_t next) {
    write_descriptor_at(layout_.descriptors, index, addr, len, flags, next);
  }
  void write_descriptor_at(uint64_t table, uint16_t index, uint64_t addr, uint32_t len,
                           uint16_t flags, uint16_t next) {
    std::array<uint8_t, ring::kDescriptorSize> d{};
    store_le<uint64_t>(d.data() + ring::kDescAddr, addr);
    store_le<uint32_t>(d.data() + ring::kDescLen, len);
    store_le<uint16_t>(d.data() + ring::kDescFlags, flags);
    store_le<uint16_t>(d.data() + ring::kDescNext, next);
    EXPECT_TRUE(memory_.write(table + ring::kDescriptorSize * index, d).ok());
  }
  void set_avail_entry(uint16_t slot, uint16_t head) {
    poke<uint16_t>(layout_.available + ring::available_entry(slot), head);
  }
  void set_avail_idx(uint16_t value) {
    poke<uint16_t>(layout_.available + ring::kRingIndex, value);
  }
  uint64_t allocate(uint64_t bytes) {
    if (heap_used_ + bytes > heap_size_) heap_used_ = 0;
    const uint64_t at = heap_ + heap_used_;
    heap_used_ = align_up(heap_used_ + bytes, ring::kDescriptorAlignment);
    return at;
  }

 private:
  static uint16_t flags_of(const Buffer& b, bool last) {
    return static_cast<uint16_t>((b.writable ? kDescFlagWrite : 0) | (last ? 0 : kDescFlagNext));
  }
  void take_descriptors(uint16_t n) {
    for (uint16_t i = 0; i < n; ++i) free_head_ = free_next_[free_head_];
    free_count_ = static_cast<uint16_t>(free_count_ - n);
  }
  // Linux's detach_buf: the chain's descriptors, still linked in free_next_, go back in front
  // of the free list.
  void release(uint16_t head) {
    uint16_t last = head;
    for (uint16_t i = 1; i < chain_length_[head]; ++i) last = free_next_[last];
    free_next_[last] = free_head_;
    free_head_ = head;
    free_count_ = static_cast<uint16_t>(free_count_ + chain_length_[head]);
  }
  template <class T>
  void poke(uint64_t address, T value) {
    std::array<uint8_t, sizeof(T)> bytes{};
    store_le<T>(bytes.data(), value);
    EXPECT_TRUE(memory_.write(address, bytes).ok());
  }
  template <class T>
  T peek(uint64_t address) const {
    std::array<uint8_t, sizeof(T)> bytes{};
    EXPECT_TRUE(memory_.read(address, bytes).ok());
    return load_le<T>(bytes.data());
  }

  memory::GuestMemory& memory_;
  QueueLayout layout_;
  uint64_t heap_;
  uint64_t heap_size_;
  uint64_t heap_used_ = 0;
  std::vector<uint16_t> free_next_;     // the free list, and each chain's links
  std::vector<uint16_t> chain_length_;  // descriptors per head in the main table
  uint16_t free_head_ = 0;
  uint16_t free_count_ = 0;
  uint16_t avail_shadow_ = 0;  // the idx publish() will store
  uint16_t last_used_ = 0;
};

}  // namespace cella::virtio::testing
