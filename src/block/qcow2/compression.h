// Compressed clusters ("Compressed Clusters Descriptor", compression_type): zlib as a raw
// deflate stream, or one zstd frame.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/result.h"
#include "block/qcow2/qcow2_format.h"

namespace cella::block::qcow2 {

// Compresses one cluster. Returns nothing when the result would not be smaller than
// `limit` bytes (the caller then stores the cluster uncompressed).
Result<std::optional<std::vector<uint8_t>>> compress_cluster(CompressionType type,
                                                             std::span<const uint8_t> cluster,
                                                             size_t limit);

// Decompresses into exactly out.size() bytes. `in` may extend past the compressed data (the
// descriptor counts whole sectors): decompression stops once the cluster is complete.
Result<void> decompress_cluster(CompressionType type, std::span<const uint8_t> in,
                                std::span<uint8_t> out);

}  // namespace cella::block::qcow2
