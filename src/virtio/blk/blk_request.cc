#include "virtio/blk/blk_request.h"

#include <algorithm>
#include <cstring>

#include "base/bits.h"
#include "virtio/segments.h"

namespace cella::virtio {

using blk_spec::RequestType;
using blk_spec::Status;

namespace {

BlkResult failed(Status status, std::string error = {}) {
  return BlkResult{status, 0, std::move(error)};
}

// Whether [sector, sector + count) lies on the disk.
bool on_disk(const BlkLimits& limits, uint64_t sector, uint64_t count) {
  return sector <= limits.capacity_sectors && count <= limits.capacity_sectors - sector;
}

BlkResult transfer(block::BlockImage& image, const BlkLimits& limits, const BlkRequest& request,
                   bool to_guest) {
  const uint64_t bytes = total_length(request.data);
  // 5.2.6.1: data is a multiple of 512 bytes.
  if (bytes % blk_spec::kSectorSize != 0) {
    return failed(Status::kIoError, "a transfer that is not a multiple of 512 bytes");
  }
  if (!on_disk(limits, request.sector, bytes / blk_spec::kSectorSize)) {
    return failed(Status::kIoError, "a transfer past the end of the disk");
  }
  // 5.2.6.2: a write to a read-only device fails with VIRTIO_BLK_S_IOERR.
  if (!to_guest && limits.read_only) return failed(Status::kIoError, "a write to a read-only disk");
  uint64_t offset = request.sector * blk_spec::kSectorSize;
  for (const Segment& segment : request.data) {
    Result<void> done = to_guest ? image.read(offset, {segment.host, segment.length})
                                 : image.write(offset, {segment.host, segment.length});
    if (!done) return failed(Status::kIoError, done.error().message());
    offset += segment.length;
  }
  return BlkResult{Status::kOk, to_guest ? static_cast<uint32_t>(bytes) : 0, {}};
}

BlkResult discard_or_zero(block::BlockImage& image, const BlkLimits& limits,
                          const BlkRequest& request, bool zeroes) {
  const uint64_t bytes = total_length(request.data);
  const uint32_t max_segments =
      zeroes ? limits.max_write_zeroes_segments : limits.max_discard_segments;
  const uint32_t max_sectors =
      zeroes ? limits.max_write_zeroes_sectors : limits.max_discard_sectors;
  if (bytes == 0 || bytes % blk_spec::kRangeSize != 0 ||
      bytes / blk_spec::kRangeSize > max_segments) {
    return failed(Status::kUnsupported, "a malformed discard/write-zeroes range list");
  }
  if (limits.read_only) return failed(Status::kIoError, "a write to a read-only disk");
  std::vector<uint8_t> raw(bytes);
  copy_from(request.data, 0, raw);
  for (uint64_t at = 0; at < bytes; at += blk_spec::kRangeSize) {
    const BlkRange range{load_le<uint64_t>(&raw[at]), load_le<uint32_t>(&raw[at + 8]),
                         load_le<uint32_t>(&raw[at + 12])};
    // 5.2.6.2: unknown flags, or UNMAP on a discard, are unsupported; too many sectors or a
    // range off the disk is an I/O error.
    const uint32_t allowed_flags = zeroes ? blk_spec::kRangeFlagUnmap : 0;
    if ((range.flags & ~allowed_flags) != 0) {
      return failed(Status::kUnsupported, "unsupported discard/write-zeroes flags");
    }
    if (range.sectors > max_sectors || !on_disk(limits, range.sector, range.sectors)) {
      return failed(Status::kIoError, "a discard/write-zeroes range past the limits");
    }
    const uint64_t offset = range.sector * blk_spec::kSectorSize;
    const uint64_t length = uint64_t{range.sectors} * blk_spec::kSectorSize;
    Result<void> done =
        zeroes ? image.write_zeroes(offset, length, (range.flags & blk_spec::kRangeFlagUnmap) != 0)
               : image.discard(offset, length);
    if (!done) return failed(Status::kIoError, done.error().message());
  }
  return BlkResult{};
}

}  // namespace

std::optional<BlkRequest> parse_blk_request(const DescriptorChain& chain) {
  if (chain.writable_bytes == 0) return std::nullopt;
  BlkRequest request;
  // The status byte is the last device-writable byte (5.2.6).
  const std::vector<Segment> status = slice(chain.writable, chain.writable_bytes - 1, 1);
  request.status = status.front();
  uint8_t header[blk_spec::kHeaderSize];
  request.header_complete = copy_from(chain.readable, 0, header) == sizeof(header);
  if (!request.header_complete) return request;
  request.type = load_le<uint32_t>(header);
  request.sector = load_le<uint64_t>(header + 8);
  switch (static_cast<RequestType>(request.type)) {
    case RequestType::kIn:
    case RequestType::kGetId:
      request.data = slice(chain.writable, 0, chain.writable_bytes - 1);
      break;
    default:
      request.data = slice(chain.readable, blk_spec::kHeaderSize,
                           chain.readable_bytes - blk_spec::kHeaderSize);
      break;
  }
  return request;
}

BlkResult execute_blk_request(block::BlockImage& image, const BlkLimits& limits,
                              const BlkRequest& request) {
  if (!request.header_complete) return failed(Status::kIoError, "a request without a header");
  switch (static_cast<RequestType>(request.type)) {
    case RequestType::kIn:
      return transfer(image, limits, request, true);
    case RequestType::kOut:
      return transfer(image, limits, request, false);
    case RequestType::kFlush:
      if (auto done = image.flush(); !done) {
        return failed(Status::kIoError, done.error().message());
      }
      return BlkResult{};
    case RequestType::kGetId: {
      // 5.2.6: up to 20 bytes, NUL-padded when shorter.
      uint8_t id[blk_spec::kIdBytes] = {};
      std::memcpy(id, limits.serial.data(), std::min<size_t>(limits.serial.size(), sizeof(id)));
      const size_t written = copy_to(request.data, 0, id);
      return BlkResult{Status::kOk, static_cast<uint32_t>(written), {}};
    }
    case RequestType::kDiscard:
      return discard_or_zero(image, limits, request, false);
    case RequestType::kWriteZeroes:
      return discard_or_zero(image, limits, request, true);
    case RequestType::kGetLifetime:
    case RequestType::kSecureErase:
      break;
  }
  return failed(Status::kUnsupported);
}

}  // namespace cella::virtio
