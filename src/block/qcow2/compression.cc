#include "block/qcow2/compression.h"

#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <memory>

namespace cella::block::qcow2 {

namespace {

// qcow2's zlib clusters are raw deflate streams (no zlib header or checksum) whose window is at
// most 4 KiB: readers such as qemu inflate with a 12-bit window, so Cella compresses with one.
constexpr int kDeflateWindowBits = -12;
// Inflating with the largest window accepts streams written with any smaller one.
constexpr int kInflateWindowBits = -15;

Result<std::optional<std::vector<uint8_t>>> deflate_cluster(std::span<const uint8_t> cluster,
                                                            size_t limit) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kDeflateWindowBits, 9,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return make_error("zlib: cannot initialize the compressor");
  }
  std::vector<uint8_t> out(limit);
  stream.next_in = const_cast<Bytef*>(cluster.data());
  stream.avail_in = static_cast<uInt>(cluster.size());
  stream.next_out = out.data();
  stream.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&stream, Z_FINISH);
  const size_t produced = out.size() - stream.avail_out;
  deflateEnd(&stream);
  if (rc != Z_STREAM_END) return std::optional<std::vector<uint8_t>>();  // did not fit
  out.resize(produced);
  return std::optional<std::vector<uint8_t>>(std::move(out));
}

Result<void> inflate_cluster(std::span<const uint8_t> in, std::span<uint8_t> out) {
  z_stream stream{};
  if (inflateInit2(&stream, kInflateWindowBits) != Z_OK) {
    return make_error("zlib: cannot initialize the decompressor");
  }
  stream.next_in = const_cast<Bytef*>(in.data());
  stream.avail_in = static_cast<uInt>(in.size());
  stream.next_out = out.data();
  stream.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&stream, Z_FINISH);
  const bool complete = stream.avail_out == 0;
  const char* message = stream.msg;
  inflateEnd(&stream);
  // Z_BUF_ERROR with a full output: the cluster is complete and trailing sector bytes remain.
  if ((rc == Z_STREAM_END || rc == Z_BUF_ERROR || rc == Z_OK) && complete) return ok();
  if (rc == Z_STREAM_END) return make_error("zlib stream ends before the cluster is complete");
  return make_error("zlib: {}", message != nullptr ? message : "corrupt compressed data");
}

struct ZstdCctxDeleter {
  void operator()(ZSTD_CCtx* ctx) const { ZSTD_freeCCtx(ctx); }
};
struct ZstdDctxDeleter {
  void operator()(ZSTD_DCtx* ctx) const { ZSTD_freeDCtx(ctx); }
};

Result<std::optional<std::vector<uint8_t>>> zstd_compress_cluster(std::span<const uint8_t> cluster,
                                                                  size_t limit) {
  std::unique_ptr<ZSTD_CCtx, ZstdCctxDeleter> ctx(ZSTD_createCCtx());
  if (!ctx) return make_error("zstd: cannot create a compression context");
  std::vector<uint8_t> out(limit);
  const size_t produced =
      ZSTD_compress2(ctx.get(), out.data(), out.size(), cluster.data(), cluster.size());
  if (ZSTD_isError(produced)) {
    if (ZSTD_getErrorCode(produced) == ZSTD_error_dstSize_tooSmall) {
      return std::optional<std::vector<uint8_t>>();
    }
    return make_error("zstd: {}", ZSTD_getErrorName(produced));
  }
  out.resize(produced);
  return std::optional<std::vector<uint8_t>>(std::move(out));
}

Result<void> zstd_decompress_cluster(std::span<const uint8_t> in, std::span<uint8_t> out) {
  std::unique_ptr<ZSTD_DCtx, ZstdDctxDeleter> ctx(ZSTD_createDCtx());
  if (!ctx) return make_error("zstd: cannot create a decompression context");
  // Streaming decompression stops when the output is full, ignoring trailing sector bytes.
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  ZSTD_outBuffer output{out.data(), out.size(), 0};
  while (output.pos < output.size) {
    const size_t before_in = input.pos;
    const size_t before_out = output.pos;
    const size_t rc = ZSTD_decompressStream(ctx.get(), &output, &input);
    if (ZSTD_isError(rc)) return make_error("zstd: {}", ZSTD_getErrorName(rc));
    if (output.pos < output.size && input.pos == before_in && output.pos == before_out) {
      return make_error("zstd: compressed data ends before the cluster is complete");
    }
  }
  return ok();
}

}  // namespace

Result<std::optional<std::vector<uint8_t>>> compress_cluster(CompressionType type,
                                                             std::span<const uint8_t> cluster,
                                                             size_t limit) {
  if (type == CompressionType::kZstd) return zstd_compress_cluster(cluster, limit);
  return deflate_cluster(cluster, limit);
}

Result<void> decompress_cluster(CompressionType type, std::span<const uint8_t> in,
                                std::span<uint8_t> out) {
  if (type == CompressionType::kZstd) return zstd_decompress_cluster(in, out);
  return inflate_cluster(in, out);
}

}  // namespace cella::block::qcow2
