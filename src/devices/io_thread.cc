#include "devices/io_thread.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace cella::devices {

Result<std::unique_ptr<CompletionQueue>> CompletionQueue::create() {
  UniqueFd event(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!event.valid()) return errno_error("eventfd");
  return std::unique_ptr<CompletionQueue>(new CompletionQueue(std::move(event)));
}

void CompletionQueue::post(std::function<void()> done) {
  {
    std::lock_guard lock(mutex_);
    posted_.push_back(std::move(done));
  }
  posted_any_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t written = ::write(event_.get(), &one, sizeof(one));
  if (kick_) kick_();
}

size_t CompletionQueue::run_posted() {
  if (!posted_any_.exchange(false, std::memory_order_acquire)) return 0;
  uint64_t count;
  [[maybe_unused]] ssize_t drained = ::read(event_.get(), &count, sizeof(count));
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard lock(mutex_);
    ready.swap(posted_);
  }
  for (auto& done : ready) done();
  return ready.size();
}

IoThread::IoThread(std::string name, CompletionQueue& completions) : completions_(completions) {
  thread_ = std::thread([this] { loop(); });
  // Linux limits thread names to 15 characters.
  ::pthread_setname_np(thread_.native_handle(), name.substr(0, 15).c_str());
}

IoThread::~IoThread() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void IoThread::submit(std::function<void()> work, std::function<void()> done) {
  {
    std::lock_guard lock(mutex_);
    items_.emplace_back(std::move(work), std::move(done));
  }
  wake_.notify_one();
}

void IoThread::wait_idle() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return items_.empty() && !busy_; });
}

void IoThread::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !items_.empty(); });
    if (items_.empty()) return;  // stopping, and everything submitted has run
    auto [work, done] = std::move(items_.front());
    items_.pop_front();
    busy_ = true;
    lock.unlock();
    work();
    completions_.post(std::move(done));
    lock.lock();
    busy_ = false;
    if (items_.empty()) idle_.notify_all();
  }
}

}  // namespace cella::devices
