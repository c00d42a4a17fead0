#include "block/qcow2/header.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/bits.h"

namespace cella::block::qcow2 {

namespace {

struct KnownFeature {
  FeatureType type;
  uint8_t bit;
  const char* name;
};

// "== Header ==": the feature bits this version of the specification defines.
constexpr KnownFeature kKnownFeatures[] = {
    {FeatureType::kIncompatible, 0, "dirty bit"},
    {FeatureType::kIncompatible, 1, "corrupt bit"},
    {FeatureType::kIncompatible, 2, "external data file"},
    {FeatureType::kIncompatible, 3, "compression type"},
    {FeatureType::kIncompatible, 4, "extended L2 entries"},
    {FeatureType::kCompatible, 0, "lazy refcounts"},
    {FeatureType::kAutoclear, 0, "bitmaps"},
    {FeatureType::kAutoclear, 1, "raw external data"},
};

// Incompatible features Cella implements; the others are refused by name.
constexpr uint64_t kSupportedIncompatible =
    kIncompatDirty | kIncompatCorrupt | kIncompatCompressionType | kIncompatExtendedL2;

std::string string_at(std::span<const uint8_t> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

Result<void> parse_extensions(std::span<const uint8_t> area, uint64_t area_start, Header& h) {
  uint64_t at = 0;
  while (at + 8 <= area.size()) {
    const uint32_t type = load_be<uint32_t>(&area[at]);
    const uint32_t length = load_be<uint32_t>(&area[at + 4]);
    if (type == kExtEnd) return ok();
    if (length > area.size() - at - 8) {
      return make_error(
          "header extension {:#010x} at offset {} ({} bytes) overflows the header area", type,
          area_start + at, length);
    }
    std::span<const uint8_t> data = area.subspan(at + 8, length);
    switch (type) {
      case kExtBackingFormat:
        h.backing_format = string_at(data);
        break;
      case kExtFeatureTable:
        for (size_t i = 0; i + kFeatureEntrySize <= data.size(); i += kFeatureEntrySize) {
          FeatureName entry;
          entry.type = static_cast<FeatureType>(data[i]);
          entry.bit = data[i + 1];
          const auto* name = reinterpret_cast<const char*>(&data[i + 2]);
          entry.name.assign(name, strnlen(name, kFeatureNameLength));
          h.feature_names.push_back(std::move(entry));
        }
        break;
      case kExtBitmaps:
        if (length < 24) return make_error("bitmaps header extension is {} bytes, not 24", length);
        h.bitmaps = BitmapsExtension{load_be<uint32_t>(&data[0]), load_be<uint64_t>(&data[8]),
                                     load_be<uint64_t>(&data[16])};
        break;
      case kExtEncryption:
        h.has_encryption_extension = true;
        break;
      case kExtDataFile:
        h.external_data_file = string_at(data);
        break;
      default:
        h.unknown_extensions.emplace_back(type, std::vector<uint8_t>(data.begin(), data.end()));
        break;
    }
    at += 8 + align_up(length, 8);
  }
  return ok();
}

Result<void> validate_features(const Header& h) {
  for (unsigned bit = 0; bit < 64; ++bit) {
    const uint64_t mask = uint64_t{1} << bit;
    if ((h.incompatible_features & mask) == 0 || (kSupportedIncompatible & mask) != 0) continue;
    const std::string name = feature_name(h, FeatureType::kIncompatible, bit);
    if (mask == kIncompatExternalData) {
      return make_error(
          "images with an external data file (incompatible feature bit 2{}) are "
          "not supported",
          h.external_data_file.empty() ? "" : ", '" + h.external_data_file + "'");
    }
    return make_error(
        "unsupported incompatible feature bit {} ({})", bit,
        name.empty() ? "unknown to Cella and unnamed in the image" : "'" + name + "'");
  }
  return ok();
}

Result<void> validate_layout(const Header& h, uint64_t file_size) {
  const uint64_t cluster_size = h.cluster_size();
  // "== Cluster mapping ==": one L1 entry maps one L2 table of cluster_size / 8 entries, or
  // cluster_size / 16 with extended L2 entries.
  const bool extended = (h.incompatible_features & kIncompatExtendedL2) != 0;
  if (extended && h.cluster_bits < kMinExtendedL2ClusterBits) {
    return make_error("extended L2 entries need clusters of at least 16 KiB (cluster_bits {})",
                      h.cluster_bits);
  }
  const uint64_t bytes_per_l1_entry = cluster_size * (cluster_size / (extended ? 16 : 8));
  const uint64_t needed_l1 = h.size / bytes_per_l1_entry + (h.size % bytes_per_l1_entry != 0);
  if (uint64_t{h.l1_size} * 8 > kMaxL1Bytes) {
    return make_error("L1 table of {} entries exceeds the {} MiB limit", h.l1_size,
                      kMaxL1Bytes >> 20);
  }
  if (needed_l1 > h.l1_size) {
    return make_error(
        "L1 table of {} entries is too small for a virtual size of {} bytes ({} "
        "needed)",
        h.l1_size, h.size, needed_l1);
  }
  if (h.l1_size > 0) {
    if (h.l1_table_offset == 0 || h.l1_table_offset % cluster_size != 0) {
      return make_error("L1 table offset {:#x} is not a nonzero multiple of the cluster size",
                        h.l1_table_offset);
    }
    if (h.l1_table_offset > file_size || uint64_t{h.l1_size} * 8 > file_size - h.l1_table_offset) {
      return make_error(
          "L1 table ({} entries at {:#x}) extends beyond the end of the file ({} "
          "bytes)",
          h.l1_size, h.l1_table_offset, file_size);
    }
  }
  if (h.refcount_table_offset == 0 || h.refcount_table_offset % cluster_size != 0) {
    return make_error("refcount table offset {:#x} is not a nonzero multiple of the cluster size",
                      h.refcount_table_offset);
  }
  const uint64_t refcount_table_bytes = uint64_t{h.refcount_table_clusters} * cluster_size;
  if (h.refcount_table_clusters == 0 || refcount_table_bytes > kMaxRefcountTableBytes) {
    return make_error("refcount table of {} clusters is empty or exceeds the {} MiB limit",
                      h.refcount_table_clusters, kMaxRefcountTableBytes >> 20);
  }
  if (h.refcount_table_offset > file_size ||
      refcount_table_bytes > file_size - h.refcount_table_offset) {
    return make_error("refcount table ({} clusters at {:#x}) extends beyond the end of the file",
                      h.refcount_table_clusters, h.refcount_table_offset);
  }
  if (h.nb_snapshots > kMaxSnapshots) {
    return make_error("{} snapshots exceed the limit of {}", h.nb_snapshots, kMaxSnapshots);
  }
  if (h.nb_snapshots > 0 && (h.snapshots_offset == 0 || h.snapshots_offset % cluster_size != 0 ||
                             h.snapshots_offset >= file_size)) {
    return make_error("snapshot table offset {:#x} is not a cluster inside the file",
                      h.snapshots_offset);
  }
  return ok();
}

}  // namespace

const char* compression_type_name(CompressionType type) {
  return type == CompressionType::kZstd ? "zstd" : "zlib";
}

std::string feature_name(const Header& header, FeatureType type, unsigned bit) {
  for (const FeatureName& entry : header.feature_names) {
    if (entry.type == type && entry.bit == bit && !entry.name.empty()) return entry.name;
  }
  for (const KnownFeature& known : kKnownFeatures) {
    if (known.type == type && known.bit == bit) return known.name;
  }
  return "";
}

std::vector<FeatureName> default_feature_names() {
  std::vector<FeatureName> names;
  for (const KnownFeature& known : kKnownFeatures)
    names.push_back({known.type, known.bit, known.name});
  return names;
}

Result<Header> parse_header(std::span<const uint8_t> first, uint64_t file_size) {
  if (first.size() < kV2HeaderLength) {
    return make_error("file of {} bytes is too small for a qcow2 header", first.size());
  }
  if (load_be<uint32_t>(&first[kOffMagic]) != kMagic)
    return make_error("not a qcow2 image (bad magic)");
  Header h;
  h.version = load_be<uint32_t>(&first[kOffVersion]);
  if (h.version != 2 && h.version != 3) {
    return make_error("unsupported qcow2 version {} (2 and 3 are supported)", h.version);
  }
  h.cluster_bits = load_be<uint32_t>(&first[kOffClusterBits]);
  if (h.cluster_bits < kMinClusterBits || h.cluster_bits > kMaxClusterBits) {
    return make_error("cluster_bits {} is outside {}..{} (512 bytes to 2 MiB clusters)",
                      h.cluster_bits, kMinClusterBits, kMaxClusterBits);
  }
  const uint64_t cluster_size = h.cluster_size();
  const uint64_t backing_file_offset = load_be<uint64_t>(&first[kOffBackingFileOffset]);
  const uint32_t backing_file_size = load_be<uint32_t>(&first[kOffBackingFileSize]);
  h.size = load_be<uint64_t>(&first[kOffSize]);
  h.crypt_method = load_be<uint32_t>(&first[kOffCryptMethod]);
  h.l1_size = load_be<uint32_t>(&first[kOffL1Size]);
  h.l1_table_offset = load_be<uint64_t>(&first[kOffL1TableOffset]);
  h.refcount_table_offset = load_be<uint64_t>(&first[kOffRefcountTableOffset]);
  h.refcount_table_clusters = load_be<uint32_t>(&first[kOffRefcountTableClusters]);
  h.nb_snapshots = load_be<uint32_t>(&first[kOffNbSnapshots]);
  h.snapshots_offset = load_be<uint64_t>(&first[kOffSnapshotsOffset]);
  h.header_length = kV2HeaderLength;
  h.refcount_order = 4;  // "For version 2 images, the order is always assumed to be 4"
  if (h.version == 3) {
    if (first.size() < kV3MinHeaderLength) return make_error("version 3 header is truncated");
    h.incompatible_features = load_be<uint64_t>(&first[kOffIncompatibleFeatures]);
    h.compatible_features = load_be<uint64_t>(&first[kOffCompatibleFeatures]);
    h.autoclear_features = load_be<uint64_t>(&first[kOffAutoclearFeatures]);
    h.refcount_order = load_be<uint32_t>(&first[kOffRefcountOrder]);
    h.header_length = load_be<uint32_t>(&first[kOffHeaderLength]);
    if (h.header_length < kV3MinHeaderLength || h.header_length % 8 != 0 ||
        h.header_length > std::min<uint64_t>(cluster_size, first.size())) {
      return make_error("header_length {} is not a multiple of 8 between {} and the cluster size",
                        h.header_length, kV3MinHeaderLength);
    }
    if (h.header_length > kOffCompressionType) {
      h.compression_type = static_cast<CompressionType>(first[kOffCompressionType]);
      h.unknown_additional_fields.assign(first.begin() + kOffCompressionType + 1,
                                         first.begin() + h.header_length);
    }
  }
  if (h.refcount_order > kMaxRefcountOrder) {
    return make_error("refcount_order {} exceeds {} (64-bit refcounts)", h.refcount_order,
                      kMaxRefcountOrder);
  }
  // "=== Header extensions ===": from the end of the header up to the backing file name (which
  // fills the rest of the first cluster) or the end of the first cluster.
  const uint64_t first_end = std::min<uint64_t>(cluster_size, first.size());
  uint64_t extensions_end = first_end;
  if (backing_file_offset != 0) {
    if (backing_file_size > kMaxBackingFileNameLength || backing_file_offset > first_end ||
        backing_file_size > first_end - backing_file_offset || backing_file_size == 0) {
      return make_error(
          "backing file name ({} bytes at offset {}) is empty, longer than {} bytes "
          "or outside the first cluster",
          backing_file_size, backing_file_offset, kMaxBackingFileNameLength);
    }
    h.backing_file = string_at(first.subspan(backing_file_offset, backing_file_size));
    if (backing_file_offset >= h.header_length) extensions_end = backing_file_offset;
  }
  if (extensions_end > h.header_length) {
    CELLA_TRY(parse_extensions(first.subspan(h.header_length, extensions_end - h.header_length),
                               h.header_length, h));
  }
  if (h.crypt_method != 0 || h.has_encryption_extension) {
    return make_error("encrypted images ({}) are not supported",
                      h.crypt_method == 1   ? "crypt_method 1, AES"
                      : h.crypt_method == 2 ? "crypt_method 2, LUKS"
                                            : fmt::format("crypt_method {}", h.crypt_method));
  }
  CELLA_TRY(validate_features(h));
  // "=== Additional fields ===": compression_type is nonzero exactly when bit 3 is set.
  const bool non_default = (h.incompatible_features & kIncompatCompressionType) != 0;
  const auto type = static_cast<uint8_t>(h.compression_type);
  if (non_default && (h.header_length <= kOffCompressionType || type == 0)) {
    return make_error(
        "incompatible feature bit 3 (compression type) is set but compression_type "
        "is zlib or absent");
  }
  if (!non_default && type != 0) {
    return make_error("compression_type is {} but incompatible feature bit 3 is clear", type);
  }
  if (type > static_cast<uint8_t>(CompressionType::kZstd)) {
    return make_error("unknown compression_type {} (0 zlib and 1 zstd are supported)", type);
  }
  CELLA_TRY(validate_layout(h, file_size));
  return h;
}

}  // namespace cella::block::qcow2
