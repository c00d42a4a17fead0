// Unpacking a bzImage's compressed kernel on the host: every format the machine unpacks, a
// format it leaves to the guest, corrupt payloads, and payload fields outside the kernel.
#include "machine/boot/kernel_payload.h"

#include <gtest/gtest.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "tests/unit/machine/bzimage_builder.h"

namespace cella::machine {
namespace {

std::vector<uint8_t> sample_kernel() {
  std::vector<uint8_t> bytes(200000);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>((i * 31) ^ (i >> 9));
  std::memcpy(bytes.data(),
              "\x7f"
              "ELF",
              4);
  return bytes;
}

std::vector<uint8_t> gzip(const std::vector<uint8_t>& in) {
  z_stream s{};
  EXPECT_EQ(deflateInit2(&s, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::vector<uint8_t> out(deflateBound(&s, in.size()) + 64);
  s.next_in = const_cast<Bytef*>(in.data());
  s.avail_in = static_cast<uInt>(in.size());
  s.next_out = out.data();
  s.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

std::vector<uint8_t> zstd(const std::vector<uint8_t>& in) {
  std::vector<uint8_t> out(ZSTD_compressBound(in.size()));
  out.resize(ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3));
  return out;
}

std::vector<uint8_t> xz(const std::vector<uint8_t>& in) {
  std::vector<uint8_t> out(in.size() + 4096);
  size_t used = 0;
  EXPECT_EQ(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, nullptr, in.data(), in.size(), out.data(),
                                    &used, out.size()),
            LZMA_OK);
  out.resize(used);
  return out;
}

// A bzImage whose protected-mode code holds `payload` at offset 0x200.
KernelImage kernel_with(const std::vector<uint8_t>& payload) {
  BzImageFields f;
  f.code_size = 0x200 + payload.size();
  f.init_size = static_cast<uint32_t>(f.code_size + 0x10000);
  f.payload_offset = 0x200;
  f.payload_length = static_cast<uint32_t>(payload.size());
  std::vector<uint8_t> file = make_bzimage(f);
  std::copy(payload.begin(), payload.end(), file.begin() + (f.setup_sects + 1) * 512 + 0x200);
  auto kernel = parse_kernel(file);
  EXPECT_TRUE(kernel) << (kernel ? "" : kernel.error().message());
  return std::move(*kernel);
}

TEST(KernelPayload, UnpacksXzGzipAndZstd) {
  const std::vector<uint8_t> original = sample_kernel();
  struct Case {
    const char* name;
    std::vector<uint8_t> packed;
  };
  const Case cases[] = {{"xz", xz(original)}, {"gzip", gzip(original)}, {"zstd", zstd(original)}};
  for (const Case& c : cases) {
    auto unpacked = unpack_bzimage_payload(kernel_with(c.packed));
    ASSERT_TRUE(unpacked) << c.name << ": " << unpacked.error().message();
    ASSERT_TRUE(unpacked->has_value()) << c.name;
    EXPECT_EQ(**unpacked, original) << c.name;
  }
}

TEST(KernelPayload, LeavesOtherCompressionsToTheGuest) {
  // bzip2 ("BZh") and lz4 legacy frames are not unpacked on the host.
  for (const std::vector<uint8_t>& packed : {std::vector<uint8_t>{'B', 'Z', 'h', '9', 1, 2, 3},
                                             std::vector<uint8_t>{0x02, 0x21, 0x4c, 0x18, 9}}) {
    auto unpacked = unpack_bzimage_payload(kernel_with(packed));
    ASSERT_TRUE(unpacked);
    EXPECT_FALSE(unpacked->has_value());
  }
}

TEST(KernelPayload, CorruptPayloadsAreErrors) {
  const std::vector<uint8_t> original = sample_kernel();
  for (std::vector<uint8_t> packed : {xz(original), gzip(original), zstd(original)}) {
    packed.resize(packed.size() / 2);  // truncated
    packed[packed.size() / 2] ^= 0x55;
    auto unpacked = unpack_bzimage_payload(kernel_with(packed));
    ASSERT_FALSE(unpacked);
    EXPECT_NE(unpacked.error().message().find("corrupt"), std::string::npos)
        << unpacked.error().message();
  }
}

TEST(KernelPayload, PayloadOutsideTheKernelIsRefused) {
  BzImageFields f;
  f.payload_offset = 0x2000;
  f.payload_length = 0x2000;  // past the 0x3000-byte protected-mode code
  auto kernel = parse_kernel(make_bzimage(f));
  ASSERT_FALSE(kernel);
  EXPECT_NE(kernel.error().message().find("payload"), std::string::npos);
}

// The ELF booted in place of a bzImage keeps the limits of the bzImage's header: Debian's
// kernels accept 2047 bytes of command line, while an ELF alone would allow only 255.
TEST(KernelPayload, TheUnpackedKernelKeepsTheHeadersLimits) {
  const std::vector<uint8_t> elf = make_elf(0x1000000, 0x1000000, 0x2000);
  const KernelImage bzimage = kernel_with(gzip(elf));
  ASSERT_EQ(bzimage.cmdline_max, 2047u);
  auto unpacked = unpack_bzimage_kernel(bzimage);
  ASSERT_TRUE(unpacked) << unpacked.error().message();
  ASSERT_TRUE(*unpacked);
  EXPECT_EQ((*unpacked)->kind, KernelImage::Kind::kElf);
  EXPECT_EQ((*unpacked)->elf_entry, 0x1000000u);
  EXPECT_EQ((*unpacked)->cmdline_max, 2047u);
  EXPECT_EQ((*unpacked)->initrd_max, bzimage.initrd_max);
  EXPECT_EQ((*unpacked)->initrd_above_4g, bzimage.initrd_above_4g);
  // A payload that unpacks to something that is not a kernel ELF is an error naming it.
  auto not_elf = unpack_bzimage_kernel(kernel_with(gzip(std::vector<uint8_t>(4096, 0x5a))));
  ASSERT_FALSE(not_elf);
  EXPECT_NE(not_elf.error().message().find("unpacked kernel"), std::string::npos);
}

}  // namespace
}  // namespace cella::machine
