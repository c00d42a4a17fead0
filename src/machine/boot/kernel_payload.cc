#include "machine/boot/kernel_payload.h"

#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>

namespace cella::machine {
namespace {

using Unpacker = Result<std::vector<uint8_t>> (*)(std::span<const uint8_t> payload);

// Grows `out` as the decoder asks for room, never past kMaximumKernelBytes.
bool grow(std::vector<uint8_t>& out, size_t used) {
  if (used < out.size()) return true;
  if (out.size() >= kMaximumKernelBytes) return false;
  out.resize(std::min<size_t>(std::max<size_t>(out.size() * 2, 1 << 24), kMaximumKernelBytes));
  return true;
}

// XZ (the .xz container, with the x86 BCJ filter the kernel build uses): liblzma.
Result<std::vector<uint8_t>> unpack_xz(std::span<const uint8_t> payload) {
  lzma_stream stream = LZMA_STREAM_INIT;
  if (lzma_stream_decoder(&stream, UINT64_MAX, 0) != LZMA_OK) {
    return make_error("cannot start the XZ decoder");
  }
  std::vector<uint8_t> out;
  stream.next_in = payload.data();
  stream.avail_in = payload.size();
  lzma_ret ret = LZMA_OK;
  while (ret == LZMA_OK) {
    if (!grow(out, stream.total_out)) break;
    stream.next_out = out.data() + stream.total_out;
    stream.avail_out = out.size() - stream.total_out;
    ret = lzma_code(&stream, LZMA_FINISH);
  }
  const uint64_t size = stream.total_out;
  lzma_end(&stream);
  if (ret != LZMA_STREAM_END) {
    return make_error("the XZ-compressed kernel is corrupt or too large (liblzma error {})",
                      static_cast<int>(ret));
  }
  out.resize(size);
  return out;
}

// gzip: zlib with gzip framing.
Result<std::vector<uint8_t>> unpack_gzip(std::span<const uint8_t> payload) {
  z_stream stream{};
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) return make_error("cannot start zlib");
  std::vector<uint8_t> out;
  stream.next_in = const_cast<Bytef*>(payload.data());
  stream.avail_in = static_cast<uInt>(payload.size());
  int ret = Z_OK;
  while (ret == Z_OK) {
    if (!grow(out, stream.total_out)) break;
    stream.next_out = out.data() + stream.total_out;
    stream.avail_out = static_cast<uInt>(out.size() - stream.total_out);
    ret = inflate(&stream, Z_FINISH);
    if (ret == Z_BUF_ERROR && stream.avail_out == 0) ret = Z_OK;  // needs more room
  }
  const uint64_t size = stream.total_out;
  inflateEnd(&stream);
  if (ret != Z_STREAM_END) return make_error("the gzip-compressed kernel is corrupt or too large");
  out.resize(size);
  return out;
}

// zstd: one frame.
Result<std::vector<uint8_t>> unpack_zstd(std::span<const uint8_t> payload) {
  ZSTD_DStream* stream = ZSTD_createDStream();
  if (stream == nullptr) return make_error("cannot start the zstd decoder");
  std::vector<uint8_t> out;
  ZSTD_inBuffer in{payload.data(), payload.size(), 0};
  size_t used = 0;
  size_t ret = 1;
  while (ret != 0) {
    if (!grow(out, used)) break;
    ZSTD_outBuffer buffer{out.data(), out.size(), used};
    ret = ZSTD_decompressStream(stream, &buffer, &in);
    used = buffer.pos;
    if (ZSTD_isError(ret) || (in.pos == in.size && buffer.pos < buffer.size && ret != 0)) break;
  }
  ZSTD_freeDStream(stream);
  if (ret != 0) return make_error("the zstd-compressed kernel is corrupt or too large");
  out.resize(used);
  return out;
}

// The compression formats the kernel build offers (arch/x86/boot/compressed/Makefile), by
// the magic bytes their streams start with.
struct PayloadFormat {
  const char* name;
  std::initializer_list<uint8_t> magic;
  Unpacker unpack;  // nullptr: left to the guest
};
const PayloadFormat kFormats[] = {
    {"xz", {0xfd, '7', 'z', 'X', 'Z', 0x00}, unpack_xz},
    {"gzip", {0x1f, 0x8b}, unpack_gzip},
    {"zstd", {0x28, 0xb5, 0x2f, 0xfd}, unpack_zstd},
};

}  // namespace

Result<std::optional<std::vector<uint8_t>>> unpack_bzimage_payload(const KernelImage& kernel) {
  if (kernel.kind != KernelImage::Kind::kBzImage || kernel.payload_length == 0) {
    return std::optional<std::vector<uint8_t>>();
  }
  const std::span<const uint8_t> payload(kernel.protected_mode_code.data() + kernel.payload_offset,
                                         kernel.payload_length);
  for (const PayloadFormat& format : kFormats) {
    if (payload.size() < format.magic.size() ||
        !std::equal(format.magic.begin(), format.magic.end(), payload.begin())) {
      continue;
    }
    auto unpacked = format.unpack(payload);
    if (!unpacked) return unpacked.error();
    return std::optional<std::vector<uint8_t>>(std::move(*unpacked));
  }
  return std::optional<std::vector<uint8_t>>();
}

Result<std::optional<KernelImage>> unpack_bzimage_kernel(const KernelImage& bzimage) {
  CELLA_TRY_ASSIGN(unpacked, unpack_bzimage_payload(bzimage));
  if (!unpacked) return std::optional<KernelImage>();
  auto elf = parse_kernel(*unpacked);
  if (!elf) return elf.error().context("the unpacked kernel");
  elf->cmdline_max = bzimage.cmdline_max;
  elf->initrd_max = bzimage.initrd_max;
  elf->initrd_above_4g = bzimage.initrd_above_4g;
  return std::optional<KernelImage>(std::move(*elf));
}

}  // namespace cella::machine
