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
  pending_.insert(pending_.end(), bytes.begin(), bytes.end());  // each byte widens to uint16_t
  pump();
}

void CharInputQueue::push_break() {
  pending_.push_back(kBreak);
  pump();
}

void CharInputQueue::pump() {
  std::array<uint8_t, 64> chunk;
  while (!pending_.empty()) {
    if (pending_.front() == kBreak) {
      if (!frontend_.receive_break()) return;
      pending_.pop_front();
      continue;
    }
    size_t n = 0;
    while (n < chunk.size() && n < pending_.size() && pending_[n] != kBreak) {
      chunk[n] = static_cast<uint8_t>(pending_[n]);
      ++n;
    }
    const size_t taken = std::min(frontend_.receive(std::span(chunk.data(), n)), n);
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(taken));
    if (taken < n) return;
  }
}

}  // namespace cella::devices
