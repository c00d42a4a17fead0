#include "virtio/segments.h"

#include <algorithm>
#include <cstring>

namespace cella::virtio {

uint64_t total_length(std::span<const Segment> segments) {
  uint64_t total = 0;
  for (const Segment& s : segments) total += s.length;
  return total;
}

std::vector<Segment> slice(std::span<const Segment> segments, uint64_t offset, uint64_t length) {
  std::vector<Segment> out;
  for (const Segment& s : segments) {
    if (length == 0) break;
    if (offset >= s.length) {
      offset -= s.length;
      continue;
    }
    const uint64_t take = std::min<uint64_t>(s.length - offset, length);
    out.push_back({s.guest + offset, s.host + offset, static_cast<uint32_t>(take)});
    length -= take;
    offset = 0;
  }
  return out;
}

size_t copy_from(std::span<const Segment> segments, uint64_t offset, std::span<uint8_t> out) {
  size_t done = 0;
  for (const Segment& s : slice(segments, offset, out.size())) {
    std::memcpy(out.data() + done, s.host, s.length);
    done += s.length;
  }
  return done;
}

size_t copy_to(std::span<const Segment> segments, uint64_t offset, std::span<const uint8_t> in) {
  size_t done = 0;
  for (const Segment& s : slice(segments, offset, in.size())) {
    std::memcpy(s.host, in.data() + done, s.length);
    done += s.length;
  }
  return done;
}

}  // namespace cella::virtio
