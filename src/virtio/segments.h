// Helpers over the guest buffers of a descriptor chain (virtqueue.h Segment lists): copying
// bytes in and out across segment boundaries, and cutting a byte range (a request's header,
// payload and status byte) out of a list.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "virtio/virtqueue.h"

namespace cella::virtio {

uint64_t total_length(std::span<const Segment> segments);
// The segments covering bytes [offset, offset + length) of the list (clipped to its end).
std::vector<Segment> slice(std::span<const Segment> segments, uint64_t offset, uint64_t length);
// Copies up to out.size() bytes starting at byte `offset` of the list; returns how many.
size_t copy_from(std::span<const Segment> segments, uint64_t offset, std::span<uint8_t> out);
// Copies up to in.size() bytes to byte `offset` of the list; returns how many.
size_t copy_to(std::span<const Segment> segments, uint64_t offset, std::span<const uint8_t> in);

}  // namespace cella::virtio
