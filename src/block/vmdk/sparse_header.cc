#include "block/vmdk/sparse_header.h"

#include <cstring>

#include "base/bits.h"
#include "block/vmdk/descriptor.h"

namespace cella::block::vmdk {

namespace {

// "Hosted Sparse Extent Header": byte offsets of the packed little-endian fields.
constexpr size_t kMagicAt = 0;
constexpr size_t kVersionAt = 4;
constexpr size_t kFlagsAt = 8;
constexpr size_t kCapacityAt = 12;
constexpr size_t kGrainSizeAt = 20;
constexpr size_t kDescriptorOffsetAt = 28;
constexpr size_t kDescriptorSizeAt = 36;
constexpr size_t kNumGtesPerGtAt = 44;
constexpr size_t kRgdOffsetAt = 48;
constexpr size_t kGdOffsetAt = 56;
constexpr size_t kOverheadAt = 64;
constexpr size_t kUncleanShutdownAt = 72;
constexpr size_t kEndOfLineCharsAt = 73;  // singleEndLine, nonEndLine, doubleEndLine1, 2
constexpr size_t kCompressAlgorithmAt = 77;
// The four characters that detect a file transferred in text mode (FTP ASCII).
constexpr char kEndOfLineChars[4] = {'\n', ' ', '\r', '\n'};

}  // namespace

Result<SparseHeader> decode_sparse_header(std::span<const uint8_t> sector) {
  if (sector.size() < kSparseHeaderSize) return make_error("truncated sparse extent header");
  const uint8_t* p = sector.data();
  const uint32_t magic = load_le<uint32_t>(p + kMagicAt);
  if (magic == kCowdMagic) {
    return make_error("ESX Server sparse extents (COWD, vmfsSparse) are not supported");
  }
  if (magic != kSparseMagic) return make_error("not a VMDK sparse extent (bad magic)");
  SparseHeader h;
  h.version = load_le<uint32_t>(p + kVersionAt);
  h.flags = load_le<uint32_t>(p + kFlagsAt);
  h.capacity = load_le<uint64_t>(p + kCapacityAt);
  h.grain_size = load_le<uint64_t>(p + kGrainSizeAt);
  h.descriptor_offset = load_le<uint64_t>(p + kDescriptorOffsetAt);
  h.descriptor_size = load_le<uint64_t>(p + kDescriptorSizeAt);
  h.num_gtes_per_gt = load_le<uint32_t>(p + kNumGtesPerGtAt);
  h.rgd_offset = load_le<uint64_t>(p + kRgdOffsetAt);
  h.gd_offset = load_le<uint64_t>(p + kGdOffsetAt);
  h.overhead = load_le<uint64_t>(p + kOverheadAt);
  h.unclean_shutdown = p[kUncleanShutdownAt] != 0;
  h.compress_algorithm = load_le<uint16_t>(p + kCompressAlgorithmAt);

  // Version 1 (1.1), 2 (5.0: zeroed-grain GTEs), 3 (stream-optimized images of later products).
  if (h.version < 1 || h.version > 3) {
    return make_error("unsupported VMDK sparse extent version {}", h.version);
  }
  if ((h.flags & kFlagValidNewlineTest) &&
      std::memcmp(p + kEndOfLineCharsAt, kEndOfLineChars, sizeof(kEndOfLineChars)) != 0) {
    return make_error(
        "the end-of-line test characters are damaged (was the file transferred in "
        "text mode?)");
  }
  if (h.capacity > kMaxDiskSectors) {
    return make_error("capacity of {} sectors is larger than the {} supported", h.capacity,
                      kMaxDiskSectors);
  }
  // "grainSize ... must be a power of 2"; VMware uses 128 sectors.
  if (!is_power_of_two(h.grain_size) || h.grain_size > kMaxGrainSectors) {
    return make_error("invalid grain size of {} sectors (a power of two up to {} expected)",
                      h.grain_size, kMaxGrainSectors);
  }
  if (h.num_gtes_per_gt == 0 || h.num_gtes_per_gt > kDefaultGtesPerGt) {
    return make_error("invalid number of entries per grain table: {}", h.num_gtes_per_gt);
  }
  if (h.gd_entries() > kMaxGdEntries) {
    return make_error("grain directory of {} entries is larger than the {} supported",
                      h.gd_entries(), kMaxGdEntries);
  }
  if (h.descriptor_size > kMaxDescriptorSectors) {
    return make_error("embedded descriptor of {} sectors is too large", h.descriptor_size);
  }
  if (h.compressed() && h.compress_algorithm != kCompressionDeflate) {
    return make_error("unsupported grain compression algorithm {}", h.compress_algorithm);
  }
  return h;
}

void encode_sparse_header(const SparseHeader& h, std::span<uint8_t> sector) {
  std::memset(sector.data(), 0, kSparseHeaderSize);
  uint8_t* p = sector.data();
  store_le<uint32_t>(p + kMagicAt, kSparseMagic);
  store_le<uint32_t>(p + kVersionAt, h.version);
  store_le<uint32_t>(p + kFlagsAt, h.flags);
  store_le<uint64_t>(p + kCapacityAt, h.capacity);
  store_le<uint64_t>(p + kGrainSizeAt, h.grain_size);
  store_le<uint64_t>(p + kDescriptorOffsetAt, h.descriptor_offset);
  store_le<uint64_t>(p + kDescriptorSizeAt, h.descriptor_size);
  store_le<uint32_t>(p + kNumGtesPerGtAt, h.num_gtes_per_gt);
  store_le<uint64_t>(p + kRgdOffsetAt, h.rgd_offset);
  store_le<uint64_t>(p + kGdOffsetAt, h.gd_offset);
  store_le<uint64_t>(p + kOverheadAt, h.overhead);
  p[kUncleanShutdownAt] = h.unclean_shutdown ? 1 : 0;
  std::memcpy(p + kEndOfLineCharsAt, kEndOfLineChars, sizeof(kEndOfLineChars));
  store_le<uint16_t>(p + kCompressAlgorithmAt, h.compress_algorithm);
}

}  // namespace cella::block::vmdk
