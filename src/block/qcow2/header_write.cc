// Serializing a header, its extensions and the backing file name into the first cluster
// ("== Header ==", "=== Header extensions ===").
#include <algorithm>

#include "base/bits.h"
#include "block/qcow2/header.h"

namespace cella::block::qcow2 {

namespace {
Result<std::vector<uint8_t>> serialize(const Header& h);
}  // namespace

Result<std::vector<uint8_t>> serialize_header(const Header& h) {
  auto out = serialize(h);
  if (out || h.feature_names.empty()) return out;
  // The feature name table is optional: small clusters (512 bytes) may have no room for it.
  Header without = h;
  without.feature_names.clear();
  return serialize(without);
}

namespace {

Result<std::vector<uint8_t>> serialize(const Header& h) {
  std::vector<uint8_t> out(h.cluster_size(), 0);
  const uint32_t header_length =
      h.version == 2 ? kV2HeaderLength
                     : static_cast<uint32_t>(align_up(
                           kOffCompressionType + 1 + h.unknown_additional_fields.size(), 8));
  store_be<uint32_t>(&out[kOffMagic], kMagic);
  store_be<uint32_t>(&out[kOffVersion], h.version);
  store_be<uint32_t>(&out[kOffClusterBits], h.cluster_bits);
  store_be<uint64_t>(&out[kOffSize], h.size);
  store_be<uint32_t>(&out[kOffCryptMethod], h.crypt_method);
  store_be<uint32_t>(&out[kOffL1Size], h.l1_size);
  store_be<uint64_t>(&out[kOffL1TableOffset], h.l1_table_offset);
  store_be<uint64_t>(&out[kOffRefcountTableOffset], h.refcount_table_offset);
  store_be<uint32_t>(&out[kOffRefcountTableClusters], h.refcount_table_clusters);
  store_be<uint32_t>(&out[kOffNbSnapshots], h.nb_snapshots);
  store_be<uint64_t>(&out[kOffSnapshotsOffset], h.snapshots_offset);
  if (h.version == 3) {
    store_be<uint64_t>(&out[kOffIncompatibleFeatures], h.incompatible_features);
    store_be<uint64_t>(&out[kOffCompatibleFeatures], h.compatible_features);
    store_be<uint64_t>(&out[kOffAutoclearFeatures], h.autoclear_features);
    store_be<uint32_t>(&out[kOffRefcountOrder], h.refcount_order);
    store_be<uint32_t>(&out[kOffHeaderLength], header_length);
    out[kOffCompressionType] = static_cast<uint8_t>(h.compression_type);
    std::copy(h.unknown_additional_fields.begin(), h.unknown_additional_fields.end(),
              out.begin() + kOffCompressionType + 1);
  }
  uint64_t at = header_length;
  bool overflow = false;
  auto extension = [&](uint32_t type, std::span<const uint8_t> data) {
    const uint64_t padded = align_up(data.size(), 8);
    if (at + 8 + padded + 8 > out.size()) {
      overflow = true;
      return;
    }
    store_be<uint32_t>(&out[at], type);
    store_be<uint32_t>(&out[at + 4], static_cast<uint32_t>(data.size()));
    std::copy(data.begin(), data.end(), out.begin() + at + 8);
    at += 8 + padded;
  };
  auto bytes = [](const std::string& s) {
    return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  if (!h.backing_format.empty()) extension(kExtBackingFormat, bytes(h.backing_format));
  if (!h.feature_names.empty()) {
    std::vector<uint8_t> table(h.feature_names.size() * kFeatureEntrySize, 0);
    for (size_t i = 0; i < h.feature_names.size(); ++i) {
      const FeatureName& entry = h.feature_names[i];
      table[i * kFeatureEntrySize] = static_cast<uint8_t>(entry.type);
      table[i * kFeatureEntrySize + 1] = entry.bit;
      std::copy_n(entry.name.begin(), std::min<size_t>(entry.name.size(), kFeatureNameLength),
                  table.begin() + i * kFeatureEntrySize + 2);
    }
    extension(kExtFeatureTable, table);
  }
  if (h.bitmaps) {
    uint8_t data[24] = {};
    store_be<uint32_t>(&data[0], h.bitmaps->nb_bitmaps);
    store_be<uint64_t>(&data[8], h.bitmaps->directory_size);
    store_be<uint64_t>(&data[16], h.bitmaps->directory_offset);
    extension(kExtBitmaps, data);
  }
  for (const auto& [type, data] : h.unknown_extensions) extension(type, data);
  if (overflow) return make_error("header extensions do not fit in one cluster");
  at += 8;  // the end-of-extensions marker (zeros)
  if (!h.backing_file.empty()) {
    if (h.backing_file.size() > kMaxBackingFileNameLength ||
        at + h.backing_file.size() > out.size()) {
      return make_error(
          "backing file name '{}' is longer than {} bytes or does not fit in the "
          "first cluster",
          h.backing_file, kMaxBackingFileNameLength);
    }
    store_be<uint64_t>(&out[kOffBackingFileOffset], at);
    store_be<uint32_t>(&out[kOffBackingFileSize], static_cast<uint32_t>(h.backing_file.size()));
    std::copy(h.backing_file.begin(), h.backing_file.end(), out.begin() + at);
  }
  return out;
}

}  // namespace

}  // namespace cella::block::qcow2
