// Device work off the vCPU thread. A device hands slow work (disk I/O) to a WorkQueue: `work`
// runs elsewhere, and its `done` continuation comes back to the machine's thread through a
// CompletionQueue, which the run loop drains between vCPU slices and whose file descriptor
// wakes a halted vCPU's poll(). Devices therefore touch their queues and interrupt lines only
// on the machine's thread, and a slow disk never stalls the guest's CPU.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/file.h"
#include "base/result.h"

namespace cella::devices {

class CompletionQueue {
 public:
  static Result<std::unique_ptr<CompletionQueue>> create();

  // From any thread: queues `done` for the machine's thread and wakes it (the eventfd, and the
  // kick, which ends the vCPU's current slice).
  void post(std::function<void()> done);
  // On the machine's thread: runs every posted continuation in order; returns how many ran.
  // Cheap when nothing was posted (one atomic load: the run loop calls it every slice).
  size_t run_posted();
  // Readable while continuations are waiting (an eventfd).
  int fd() const { return event_.get(); }
  void set_kick(std::function<void()> kick) { kick_ = std::move(kick); }

 private:
  explicit CompletionQueue(UniqueFd event) : event_(std::move(event)) {}
  UniqueFd event_;
  std::atomic<bool> posted_any_{false};
  std::mutex mutex_;
  std::vector<std::function<void()>> posted_;
  std::function<void()> kick_;
};

class WorkQueue {
 public:
  virtual ~WorkQueue() = default;
  // Runs `work` (in submission order), then posts `done` to the completion queue.
  virtual void submit(std::function<void()> work, std::function<void()> done) = 0;
};

// One host thread running a device's work in order (a disk's requests stay ordered, and a
// BlockImage is driven by one thread at a time). Destruction finishes the queued work.
class IoThread final : public WorkQueue {
 public:
  IoThread(std::string name, CompletionQueue& completions);
  ~IoThread() override;
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  void submit(std::function<void()> work, std::function<void()> done) override;
  // Blocks until every submitted item has run (its continuation is posted, not yet run).
  void wait_idle();

 private:
  void loop();

  CompletionQueue& completions_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<std::pair<std::function<void()>, std::function<void()>>> items_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

// Runs work at once on the caller's thread and posts the continuation: deterministic device
// tests and fuzz targets.
class InlineWorkQueue final : public WorkQueue {
 public:
  explicit InlineWorkQueue(CompletionQueue& completions) : completions_(completions) {}
  void submit(std::function<void()> work, std::function<void()> done) override {
    work();
    completions_.post(std::move(done));
  }

 private:
  CompletionQueue& completions_;
};

}  // namespace cella::devices
