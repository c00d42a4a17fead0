#include "devices/timer_queue.h"

#include <algorithm>

namespace cella::devices {

Timer::~Timer() {
  if (queue_ != nullptr) queue_->cancel(*this);
}

TimerQueue::~TimerQueue() {
  for (Timer* t : armed_) t->queue_ = nullptr;
}

void TimerQueue::arm(Timer& timer, uint64_t deadline_ns) {
  if (timer.queue_ != nullptr && timer.queue_ != this) timer.queue_->cancel(timer);
  if (timer.queue_ == nullptr) armed_.push_back(&timer);
  timer.queue_ = this;
  timer.deadline_ns_ = deadline_ns;
}

void TimerQueue::cancel(Timer& timer) {
  if (timer.queue_ != this) return;
  armed_.erase(std::find(armed_.begin(), armed_.end(), &timer));
  timer.queue_ = nullptr;
}

std::optional<uint64_t> TimerQueue::next_deadline_ns() const {
  if (armed_.empty()) return std::nullopt;
  uint64_t earliest = armed_.front()->deadline_ns_;
  for (const Timer* t : armed_) earliest = std::min(earliest, t->deadline_ns_);
  return earliest;
}

int TimerQueue::run_due(int max_rounds) {
  int fired = 0;
  for (int round = 0; round < max_rounds; ++round) {
    const uint64_t now = clock_.now_ns();
    Timer* due = nullptr;
    for (Timer* t : armed_) {
      if (t->deadline_ns_ <= now && (due == nullptr || t->deadline_ns_ < due->deadline_ns_)) {
        due = t;
      }
    }
    if (due == nullptr) break;
    cancel(*due);
    due->on_expiry_();
    ++fired;
  }
  return fired;
}

}  // namespace cella::devices
