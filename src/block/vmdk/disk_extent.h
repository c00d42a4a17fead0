// One extent of a VMDK disk (VMware Virtual Disk Format 1.1, "Extent Descriptions"): a range of
// the virtual disk stored in one file as a flat, sparse or stream-optimized extent, or a ZERO
// extent with no file. Offsets given to an extent are bytes relative to its start.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "block/block_image.h"
#include "block/host_file.h"

namespace cella::block::vmdk {

// How a run of an extent is stored.
struct Segment {
  ExtentKind kind = ExtentKind::kUnallocated;
  uint64_t length = 0;
  int64_t host_offset = -1;        // kData: file offset of the first byte; -1 when compressed
  uint64_t compressed_sector = 0;  // kData, compressed: the grain's marker (or data) sector
};

// Fills `out` with what the disk reads at an extent offset where this extent has no data: the
// parent's data for a delta disk, zeros otherwise. Used to complete partially written grains.
using Background = std::function<Result<void>(uint64_t offset, std::span<uint8_t> out)>;

class DiskExtent {
 public:
  virtual ~DiskExtent() = default;

  virtual uint64_t size() const = 0;                 // bytes
  virtual const std::string& file_name() const = 0;  // host path, empty for ZERO extents
  virtual std::string_view kind_name() const = 0;    // "sparse", "flat", ... for `info`
  virtual HostFile* host_file() { return nullptr; }
  // Allocation granularity (the grain), 0 for flat and zero extents.
  virtual uint64_t grain_bytes() const { return 0; }
  virtual bool writable() const = 0;

  // How [offset, offset + max_length) begins: the longest run of one kind (and, for data,
  // contiguous in the file) starting at offset.
  virtual Result<Segment> lookup(uint64_t offset, uint64_t max_length) = 0;
  // The same for `map`, which may look further (holes of a flat extent's file).
  virtual Result<Segment> allocation(uint64_t offset, uint64_t max_length) {
    return lookup(offset, max_length);
  }
  // Reads the first out.size() bytes of a kData segment that lookup(offset, ...) returned.
  virtual Result<void> read(const Segment& segment, uint64_t offset, std::span<uint8_t> out) = 0;
  virtual Result<void> write(uint64_t offset, std::span<const uint8_t> data,
                             const Background& background) = 0;
  // Makes [offset, offset + length) read as zeros; `has_backing` tells whether unallocated
  // grains read the parent's data. The default writes zeros.
  virtual Result<void> write_zeroes(uint64_t offset, uint64_t length, bool may_unmap,
                                    bool has_backing, const Background& background);
  // Deallocates what the extent can of the range (whole grains, host blocks); the range then
  // reads as zeros or as the parent's data. The default does nothing.
  virtual Result<void> discard(uint64_t offset, uint64_t length);
  // Called before each change: sparse extents mark themselves in use (uncleanShutdown).
  virtual Result<void> begin_writing() { return ok(); }
  // Whether the extent was not closed cleanly the last time it was written.
  virtual bool unclean() const { return false; }
  virtual Result<void> flush() = 0;
  virtual Result<void> check(CheckReport& report, bool repair);
  virtual Result<uint64_t> allocated_bytes() const { return 0; }
};

}  // namespace cella::block::vmdk
