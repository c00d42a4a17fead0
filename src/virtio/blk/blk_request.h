// One virtio-blk request (virtio 1.2 5.2.6): parsed from a descriptor chain on the vCPU thread,
// executed against the disk image on the device's I/O thread. Parsing trusts nothing in the
// chain; execution checks every range against the disk and the limits the device advertised.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "block/block_image.h"
#include "virtio/blk/blk_spec.h"
#include "virtio/virtqueue.h"

namespace cella::virtio {

// What the device advertised and enforces (the configuration space says the same).
struct BlkLimits {
  uint64_t capacity_sectors = 0;
  bool read_only = false;
  uint32_t max_discard_sectors = 0;
  uint32_t max_discard_segments = 0;
  uint32_t max_write_zeroes_sectors = 0;
  uint32_t max_write_zeroes_segments = 0;
  std::string serial;  // GET_ID's answer, at most 20 bytes
};

// 5.2.6: struct virtio_blk_discard_write_zeroes.
struct BlkRange {
  uint64_t sector = 0;
  uint32_t sectors = 0;
  uint32_t flags = 0;
};

struct BlkRequest {
  uint32_t type = 0;
  uint64_t sector = 0;
  bool header_complete = false;  // false: the chain is shorter than the 16-byte header
  std::vector<Segment> data;     // IN/GET_ID: writable bytes before the status byte;
                                 // OUT/DISCARD/WRITE_ZEROES: readable bytes after the header
  Segment status;                // the last device-writable byte
};

// The request in `chain`, or nullopt when the chain has no device-writable byte for the status
// (the device cannot even answer: a driver error).
std::optional<BlkRequest> parse_blk_request(const DescriptorChain& chain);

struct BlkResult {
  blk_spec::Status status = blk_spec::Status::kOk;
  uint32_t written = 0;  // data bytes written into the guest's buffers (IN, GET_ID)
  std::string error;     // the host error behind an I/O error, for the log
};

// Executes `request` on `image` (the I/O thread's side): bounds, read-only disks, sector
// multiples, discard/write-zeroes segments and flags per 5.2.6.2.
BlkResult execute_blk_request(block::BlockImage& image, const BlkLimits& limits,
                              const BlkRequest& request);

}  // namespace cella::virtio
