// Where things are inside the three areas of a split virtqueue (virtio 1.2 2.7), shared by the
// device side (virtqueue.cc) and test-side drivers. All fields are little-endian.
#pragma once

#include <atomic>
#include <cstdint>

namespace cella::virtio::ring {

// Virtio 1.2 2.7, "Queue Part" table: alignment of each area.
inline constexpr uint64_t kDescriptorAlignment = 16;
inline constexpr uint64_t kAvailableAlignment = 2;
inline constexpr uint64_t kUsedAlignment = 4;

// Virtio 1.2 2.7.5: struct virtq_desc { le64 addr; le32 len; le16 flags; le16 next; }.
inline constexpr uint64_t kDescriptorSize = 16;
inline constexpr uint64_t kDescAddr = 0;
inline constexpr uint64_t kDescLen = 8;
inline constexpr uint64_t kDescFlags = 12;
inline constexpr uint64_t kDescNext = 14;

// Virtio 1.2 2.7.6 / 2.7.8: both rings start with le16 flags, le16 idx, then the entries.
inline constexpr uint64_t kRingFlags = 0;
inline constexpr uint64_t kRingIndex = 2;
inline constexpr uint64_t kRingEntries = 4;
// 2.7.6: available entries are le16 heads; 2.7.8: used entries are struct virtq_used_elem
// { le32 id; le32 len; }.
inline constexpr uint64_t kAvailableEntrySize = 2;
inline constexpr uint64_t kUsedEntrySize = 8;
inline constexpr uint64_t kUsedElemId = 0;
inline constexpr uint64_t kUsedElemLen = 4;

// Virtio 1.2 2.7, "Queue Part" table: sizes, counting the trailing event field (used_event,
// avail_event, 2.7.10) that exists with VIRTIO_F_EVENT_IDX.
constexpr uint64_t descriptor_table_bytes(uint32_t size) {
  return kDescriptorSize * size;
}
constexpr uint64_t available_ring_bytes(uint32_t size) {
  return kRingEntries + kAvailableEntrySize * size + 2;
}
constexpr uint64_t used_ring_bytes(uint32_t size) {
  return kRingEntries + kUsedEntrySize * size + 2;
}
constexpr uint64_t available_entry(uint32_t slot) {
  return kRingEntries + kAvailableEntrySize * slot;
}
constexpr uint64_t used_entry(uint32_t slot) {
  return kRingEntries + kUsedEntrySize * slot;
}
// 2.7.10: used_event follows the available ring's entries; avail_event the used ring's.
constexpr uint64_t used_event_offset(uint32_t size) {
  return available_entry(size);
}
constexpr uint64_t avail_event_offset(uint32_t size) {
  return used_entry(size);
}

// 2.7.10: vring_need_event(event, new, old): whether moving an index from `old` to `new`
// passes `event` (the other side asked to be told when the index moves past event), with
// 16-bit wrap-around.
constexpr bool need_event(uint16_t event, uint16_t new_index, uint16_t old_index) {
  return static_cast<uint16_t>(new_index - event - 1) <
         static_cast<uint16_t>(new_index - old_index);
}

// The le16 fields shared with the driver (flags, idx, used_event, avail_event) are naturally
// aligned (enable() checks the areas' alignment, and RAM is page-aligned in host memory too);
// the host is little-endian, so they are accessed in place as atomics.
inline std::atomic_ref<uint16_t> shared_u16(uint8_t* field) {
  return std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(field));
}

}  // namespace cella::virtio::ring
