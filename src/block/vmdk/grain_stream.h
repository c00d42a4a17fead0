// The pieces of a stream-optimized extent (VMware Virtual Disk Format 1.1, "Stream-Optimized
// Compressed Sparse Extents"): grain markers carrying a deflate-compressed grain, metadata
// markers (end-of-stream, grain table, grain directory, footer), and the compression itself.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"
#include "block/host_file.h"
#include "block/vmdk/sparse_header.h"

namespace cella::block::vmdk {

// "Markers": a marker is {uint64 val; uint32 size; uint32 type}. With size != 0 it is a grain
// marker: val is the grain's LBA (in sectors) and `size` bytes of compressed data follow the
// 12-byte {val, size} prefix. With size == 0 it is a metadata marker occupying one sector, val
// being the number of metadata sectors that follow it.
enum class MarkerType : uint32_t {
  kEndOfStream = 0,
  kGrainTable = 1,
  kGrainDirectory = 2,
  kFooter = 3,
};
inline constexpr size_t kGrainMarkerPrefix = 12;

struct Marker {
  uint64_t value = 0;
  uint32_t size = 0;
  uint32_t type = 0;  // meaningful when size == 0
};

Marker decode_marker(std::span<const uint8_t> bytes);  // at least 16 bytes
// A whole metadata-marker sector (512 bytes).
void encode_metadata_marker(std::span<uint8_t> sector, uint64_t sectors, MarkerType type);
void encode_grain_marker(std::span<uint8_t> prefix, uint64_t lba, uint32_t compressed_size);

// The largest compressed grain Cella accepts for a grain of `grain_bytes`: deflate's stored
// blocks add a few bytes per 16 KiB, so twice the grain is far beyond any honest stream.
inline uint64_t max_compressed_grain(uint64_t grain_bytes) {
  return 2 * grain_bytes + 1024;
}

// "Compressed grains" use RFC 1950 (zlib) deflate streams. Compression appends to `out`.
Result<void> compress_grain(std::span<const uint8_t> grain, std::vector<uint8_t>& out);
// Inflates a stream into `out`, failing on corrupt data or output that would not fit. Returns
// the number of bytes produced.
Result<size_t> inflate_grain(std::span<const uint8_t> compressed, std::span<uint8_t> out);

// Reads the compressed grain `grain` whose grain table entry is `sector` (its grain marker, or
// its data when the extent has no markers) and inflates it into `out` (one grain). The marker
// must name the grain's LBA; nothing is read at or beyond `file_end`.
Result<void> read_compressed_grain(const HostFile& file, const SparseHeader& header,
                                   uint64_t file_end, uint64_t grain, uint64_t sector,
                                   std::vector<uint8_t>& out);

}  // namespace cella::block::vmdk
