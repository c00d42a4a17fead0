#include "devices/chardev.h"

#include <algorithm>
#include <array>

namespace cella::devices {

CharInputQueue::CharInputQueue(CharFrontend& frontend) : frontend_(frontend) {
  frontend_.set_on_receive_room([this] { pump(); });
}

CharInputQueue::~CharInputQueue() {
  frontend_.set_on_receive_room(nullptr);
}

void CharInputQueue::push(std::span<const uint8_t> bytes) {
  pending_.insert(pending_.end(), bytes.begin(), bytes.end());
  pump();
}

void CharInputQueue::pump() {
  std::array<uint8_t, 64> chunk;
  while (!pending_.empty()) {
    const size_t n = std::min(chunk.size(), pending_.size());
    std::copy_n(pending_.begin(), n, chunk.begin());
    const size_t taken = std::min(frontend_.receive(std::span(chunk.data(), n)), n);
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(taken));
    if (taken < n) break;
  }
}

}  // namespace cella::devices
