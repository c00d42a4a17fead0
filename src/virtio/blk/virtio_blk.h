// virtio-blk (virtio 1.2 5.2) on any BlockImage: read, write, flush, discard, write-zeroes,
// GET_ID, read-only disks. Requests are parsed on the vCPU thread when the driver notifies the
// queue and executed in order on the disk's WorkQueue (an I/O thread); their completions come
// back to the machine's thread, which writes the status byte, returns the chain and interrupts
// the driver. A reset drops the completions of requests still in flight.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "block/block_image.h"
#include "devices/io_thread.h"
#include "virtio/blk/blk_request.h"
#include "virtio/virtio_device.h"

namespace cella::virtio {

struct BlkOptions {
  bool read_only = false;  // the guest sees VIRTIO_BLK_F_RO; the image is opened read-only too
  std::string serial;      // GET_ID's answer (at most 20 bytes are used)
};

class VirtioBlk final : public VirtioDevice {
 public:
  struct Metrics {
    uint64_t reads = 0, writes = 0, flushes = 0, discards = 0, write_zeroes = 0, get_ids = 0;
    uint64_t read_bytes = 0, written_bytes = 0;
    uint64_t io_errors = 0;    // requests answered VIRTIO_BLK_S_IOERR
    uint64_t unsupported = 0;  // requests answered VIRTIO_BLK_S_UNSUPP
    uint64_t in_flight = 0;
  };
  static constexpr uint16_t kQueueSize = 256;

  VirtioBlk(std::unique_ptr<block::BlockImage> image, devices::WorkQueue& work,
            const BlkOptions& options);

  std::string_view name() const override { return "virtio-blk"; }
  DeviceType type() const override { return DeviceType::kBlock; }
  uint64_t features() const override;
  unsigned queue_count() const override { return 1; }
  uint16_t queue_max_size(unsigned) const override { return kQueueSize; }
  std::span<const uint8_t> config() const override { return config_; }

  void activate(Transport& transport) override { transport_ = &transport; }
  void notify(unsigned index) override;
  void reset() override;
  void save(snapshot::StateWriter& out) const override;
  Result<void> load(snapshot::StateReader& in) override;

  const Metrics& metrics() const { return metrics_; }
  const BlkLimits& limits() const { return limits_; }
  block::BlockImage& image() { return *image_; }

 private:
  struct InFlight {
    InFlight(DescriptorChain c, BlkRequest r) : chain(std::move(c)), request(std::move(r)) {}
    DescriptorChain chain;
    BlkRequest request;
    BlkResult result;
  };
  void complete(const DescriptorChain& chain, const BlkRequest& request, const BlkResult& result);
  void count(const BlkRequest& request, const BlkResult& result);

  std::unique_ptr<block::BlockImage> image_;
  devices::WorkQueue& work_;
  BlkLimits limits_;
  std::array<uint8_t, blk_spec::config::kSize> config_{};
  Transport* transport_ = nullptr;
  uint64_t generation_ = 0;  // bumped by reset(): completions of older requests are dropped
  Metrics metrics_;
};

}  // namespace cella::virtio
