#include "block/vmdk/grain_stream.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "base/bits.h"

namespace cella::block::vmdk {

Marker decode_marker(std::span<const uint8_t> bytes) {
  Marker marker;
  marker.value = load_le<uint64_t>(bytes.data());
  marker.size = load_le<uint32_t>(bytes.data() + 8);
  marker.type = load_le<uint32_t>(bytes.data() + 12);
  return marker;
}

void encode_metadata_marker(std::span<uint8_t> sector, uint64_t sectors, MarkerType type) {
  std::memset(sector.data(), 0, 512);
  store_le<uint64_t>(sector.data(), sectors);
  store_le<uint32_t>(sector.data() + 8, 0);
  store_le<uint32_t>(sector.data() + 12, static_cast<uint32_t>(type));
}

void encode_grain_marker(std::span<uint8_t> prefix, uint64_t lba, uint32_t compressed_size) {
  store_le<uint64_t>(prefix.data(), lba);
  store_le<uint32_t>(prefix.data() + 8, compressed_size);
}

Result<void> compress_grain(std::span<const uint8_t> grain, std::vector<uint8_t>& out) {
  const size_t start = out.size();
  uLongf capacity = compressBound(static_cast<uLong>(grain.size()));
  out.resize(start + capacity);
  const int rc = compress2(out.data() + start, &capacity, grain.data(),
                           static_cast<uLong>(grain.size()), Z_DEFAULT_COMPRESSION);
  if (rc != Z_OK) {
    out.resize(start);
    return make_error("deflate failed ({})", rc);
  }
  out.resize(start + capacity);
  return ok();
}

Result<size_t> inflate_grain(std::span<const uint8_t> compressed, std::span<uint8_t> out) {
  if (compressed.size() > UINT_MAX || out.size() > UINT_MAX) {
    return make_error("compressed grain too large");
  }
  z_stream stream{};
  if (inflateInit(&stream) != Z_OK) return make_error("inflate initialization failed");
  stream.next_in = const_cast<Bytef*>(compressed.data());
  stream.avail_in = static_cast<uInt>(compressed.size());
  stream.next_out = out.data();
  stream.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&stream, Z_FINISH);
  const size_t produced = out.size() - stream.avail_out;
  inflateEnd(&stream);
  if (rc == Z_STREAM_END) return produced;
  if (stream.avail_out == 0) {
    return make_error("compressed grain inflates to more than the grain size");
  }
  if (rc == Z_BUF_ERROR || rc == Z_OK) return make_error("compressed grain is truncated");
  return make_error("compressed grain is corrupt (inflate error {})", rc);
}

Result<void> read_compressed_grain(const HostFile& file, const SparseHeader& header,
                                   uint64_t file_end, uint64_t grain, uint64_t sector,
                                   std::vector<uint8_t>& out) {
  const uint64_t grain_size = header.grain_bytes();
  uint64_t data_at = sector * 512;
  if (data_at >= file_end) {
    return make_error("{}: grain {} is at sector {}, beyond the end of the file", file.path(),
                      grain, sector);
  }
  uint64_t length = std::min(max_compressed_grain(grain_size), file_end - data_at);
  if (header.markers()) {
    // "Grain Marker": {lba, size} then the compressed bytes.
    std::vector<uint8_t> prefix(16, 0);
    CELLA_TRY(file.read_zero_filled(data_at, prefix));
    const Marker marker = decode_marker(prefix);
    if (marker.size == 0) {
      return make_error(
          "{}: grain {} points at sector {}, which holds a metadata marker, not a "
          "grain",
          file.path(), grain, sector);
    }
    if (marker.value != grain * header.grain_size) {
      return make_error(
          "{}: the grain marker at sector {} is for sector {} of the disk, but the "
          "grain table puts grain {} (sector {}) there",
          file.path(), sector, marker.value, grain, grain * header.grain_size);
    }
    if (marker.size > max_compressed_grain(grain_size) ||
        data_at + kGrainMarkerPrefix + marker.size > file_end) {
      return make_error("{}: the compressed grain at sector {} has an invalid size of {} bytes",
                        file.path(), sector, marker.size);
    }
    data_at += kGrainMarkerPrefix;
    length = marker.size;
  }
  std::vector<uint8_t> compressed(length);
  CELLA_TRY(file.read(data_at, compressed));
  out.assign(grain_size, 0);
  auto produced = inflate_grain(compressed, out);
  if (!produced) {
    return produced.error().context(
        fmt::format("{}: grain {} at sector {}", file.path(), grain, sector));
  }
  return ok();
}

}  // namespace cella::block::vmdk
