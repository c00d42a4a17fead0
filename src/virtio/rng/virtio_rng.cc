#include "virtio/rng/virtio_rng.h"

#include <sys/random.h>

#include <algorithm>

#include "virtio/segments.h"

namespace cella::virtio {

namespace {

// Fills `out` from the host's CSPRNG; returns how many bytes it got.
size_t host_random(std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t got = ::getrandom(out.data() + done, out.size() - done, 0);
    if (got <= 0) break;  // EINTR or no entropy: give what there is
    done += static_cast<size_t>(got);
  }
  return done;
}

}  // namespace

void VirtioRng::notify(unsigned index) {
  if (transport_ == nullptr || index != 0) return;
  Virtqueue& queue = transport_->queue(0);
  bool pushed = false;
  for (;;) {
    auto chain = queue.pop();
    if (!chain) {
      transport_->device_error(chain.error());
      return;
    }
    if (!*chain) break;
    // 5.4.6.1: the device writes random bytes into the device-writable buffers.
    const size_t wanted =
        static_cast<size_t>(std::min<uint64_t>((*chain)->writable_bytes, kMaxBytesPerRequest));
    scratch_.resize(wanted);
    const size_t got = host_random(scratch_);
    const size_t written = copy_to((*chain)->writable, 0, {scratch_.data(), got});
    queue.push(**chain, static_cast<uint32_t>(written));
    ++metrics_.requests;
    metrics_.bytes += written;
    pushed = true;
  }
  if (pushed) transport_->used_buffers(0);
}

void VirtioRng::save(snapshot::StateWriter& out) const {
  out.begin_section(name(), 1);
  out.u64(metrics_.requests);
  out.u64(metrics_.bytes);
  out.end_section();
}

Result<void> VirtioRng::load(snapshot::StateReader& in) {
  CELLA_TRY(in.begin_section(name(), 1));
  CELLA_TRY_ASSIGN(requests, in.u64());
  CELLA_TRY_ASSIGN(bytes, in.u64());
  metrics_ = {requests, bytes};
  return in.end_section();
}

}  // namespace cella::virtio
