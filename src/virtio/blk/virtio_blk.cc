#include "virtio/blk/virtio_blk.h"

#include <algorithm>

#include "base/bits.h"
#include "base/log.h"

namespace cella::virtio {

using blk_spec::RequestType;
using blk_spec::Status;

namespace {

// Discard and write-zeroes limits: one range per request (Linux splits larger ones), up to
// 4 GiB - 512 bytes each (the num_sectors field is 32 bits).
constexpr uint32_t kMaxRangeSectors = 0x7fffff;
constexpr uint32_t kMaxRangeSegments = 1;

}  // namespace

VirtioBlk::VirtioBlk(std::unique_ptr<block::BlockImage> image, devices::WorkQueue& work,
                     const BlkOptions& options)
    : image_(std::move(image)), work_(work) {
  limits_.capacity_sectors = image_->size() / blk_spec::kSectorSize;
  limits_.read_only = options.read_only || image_->read_only();
  limits_.max_discard_sectors = kMaxRangeSectors;
  limits_.max_discard_segments = kMaxRangeSegments;
  limits_.max_write_zeroes_sectors = kMaxRangeSectors;
  limits_.max_write_zeroes_segments = kMaxRangeSegments;
  limits_.serial = options.serial.substr(0, blk_spec::kIdBytes);

  namespace config = blk_spec::config;
  store_le<uint64_t>(&config_[config::kCapacity], limits_.capacity_sectors);
  // A chain holds the header and the status byte besides the data segments.
  store_le<uint32_t>(&config_[config::kSegMax], uint32_t{kQueueSize} - 2);
  store_le<uint32_t>(&config_[config::kBlockSize], static_cast<uint32_t>(blk_spec::kSectorSize));
  store_le<uint32_t>(&config_[config::kMaxDiscardSectors], limits_.max_discard_sectors);
  store_le<uint32_t>(&config_[config::kMaxDiscardSegments], limits_.max_discard_segments);
  // Discards at the image's allocation granularity free whole clusters.
  const uint64_t cluster_sectors =
      std::max<uint64_t>(image_->cluster_size() / blk_spec::kSectorSize, 1);
  store_le<uint32_t>(&config_[config::kDiscardSectorAlignment],
                     static_cast<uint32_t>(std::min<uint64_t>(cluster_sectors, 1u << 16)));
  store_le<uint32_t>(&config_[config::kMaxWriteZeroesSectors], limits_.max_write_zeroes_sectors);
  store_le<uint32_t>(&config_[config::kMaxWriteZeroesSegments], limits_.max_write_zeroes_segments);
  config_[config::kWriteZeroesMayUnmap] = 1;
}

uint64_t VirtioBlk::features() const {
  uint64_t features = feature_bit(blk_spec::kFeatureSegMax) |
                      feature_bit(blk_spec::kFeatureBlockSize) |
                      feature_bit(blk_spec::kFeatureFlush);
  if (limits_.read_only) {
    features |= feature_bit(blk_spec::kFeatureReadOnly);
  } else {
    features |= feature_bit(blk_spec::kFeatureDiscard) | feature_bit(blk_spec::kFeatureWriteZeroes);
  }
  return features;
}

void VirtioBlk::notify(unsigned index) {
  if (transport_ == nullptr || index != 0) return;
  Virtqueue& queue = transport_->queue(0);
  for (;;) {
    auto popped = queue.pop();
    if (!popped) {
      transport_->device_error(popped.error());
      return;
    }
    if (!*popped) return;
    DescriptorChain chain = std::move(**popped);
    std::optional<BlkRequest> request = parse_blk_request(chain);
    if (!request) {
      transport_->device_error(make_error("request {} has no byte for its status", chain.head));
      return;
    }
    ++metrics_.in_flight;
    // Shared by the I/O thread's work and the continuation on the machine's thread.
    auto in_flight = std::make_shared<InFlight>(std::move(chain), std::move(*request));
    work_.submit(
        [this, in_flight] {
          in_flight->result = execute_blk_request(*image_, limits_, in_flight->request);
        },
        [this, in_flight, generation = generation_] {
          --metrics_.in_flight;
          if (generation != generation_) return;  // the device was reset meanwhile
          complete(in_flight->chain, in_flight->request, in_flight->result);
        });
  }
}

void VirtioBlk::complete(const DescriptorChain& chain, const BlkRequest& request,
                         const BlkResult& result) {
  count(request, result);
  if (result.status == Status::kIoError && !result.error.empty()) {
    log::debug("virtio-blk {}: I/O error: {}", image_->path(), result.error);
  }
  *request.status.host = static_cast<uint8_t>(result.status);
  Virtqueue& queue = transport_->queue(0);
  // push() reports the leading `written` bytes to the DMA observer; the status byte sits after
  // the whole data buffer, which a failed or short request did not fill.
  queue.note_written(request.status);
  // 5.2.6: len covers the data written and the status byte.
  queue.push(chain, result.written + 1);
  transport_->used_buffers(0);
}

void VirtioBlk::count(const BlkRequest& request, const BlkResult& result) {
  if (result.status == Status::kIoError) ++metrics_.io_errors;
  if (result.status == Status::kUnsupported) ++metrics_.unsupported;
  if (result.status != Status::kOk) return;
  switch (static_cast<RequestType>(request.type)) {
    case RequestType::kIn:
      ++metrics_.reads;
      metrics_.read_bytes += result.written;
      break;
    case RequestType::kOut:
      ++metrics_.writes;
      for (const Segment& s : request.data) metrics_.written_bytes += s.length;
      break;
    case RequestType::kFlush:
      ++metrics_.flushes;
      break;
    case RequestType::kDiscard:
      ++metrics_.discards;
      break;
    case RequestType::kWriteZeroes:
      ++metrics_.write_zeroes;
      break;
    case RequestType::kGetId:
      ++metrics_.get_ids;
      break;
    default:
      break;
  }
}

void VirtioBlk::reset() {
  transport_ = nullptr;
  ++generation_;
}

void VirtioBlk::save(snapshot::StateWriter& out) const {
  // Requests in flight are not state: the machine saves only after the I/O threads are idle
  // and their completions ran. The disk's identity is checked on load.
  out.begin_section(name(), 1);
  out.u64(limits_.capacity_sectors);
  out.boolean(limits_.read_only);
  out.end_section();
}

Result<void> VirtioBlk::load(snapshot::StateReader& in) {
  CELLA_TRY(in.begin_section(name(), 1));
  CELLA_TRY_ASSIGN(capacity, in.u64());
  CELLA_TRY_ASSIGN(read_only, in.boolean());
  if (capacity != limits_.capacity_sectors || read_only != limits_.read_only) {
    return make_error("virtio-blk: the snapshot's disk ({} sectors{}) is not this one ({}{})",
                      capacity, read_only ? ", read-only" : "", limits_.capacity_sectors,
                      limits_.read_only ? ", read-only" : "");
  }
  return in.end_section();
}

}  // namespace cella::virtio
