// The qcow2 header and its extensions, parsed into host values and validated against the file;
// and the reverse, for creating images and rewriting the first cluster.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "block/qcow2/qcow2_format.h"

namespace cella::block::qcow2 {

struct FeatureName {
  FeatureType type = FeatureType::kIncompatible;
  uint8_t bit = 0;
  std::string name;
};

// "== Bitmaps extension ==".
struct BitmapsExtension {
  uint32_t nb_bitmaps = 0;
  uint64_t directory_size = 0;
  uint64_t directory_offset = 0;
};

struct Header {
  uint32_t version = 3;
  uint32_t cluster_bits = 16;
  uint64_t size = 0;
  uint32_t crypt_method = 0;
  uint32_t l1_size = 0;
  uint64_t l1_table_offset = 0;
  uint64_t refcount_table_offset = 0;
  uint32_t refcount_table_clusters = 0;
  uint32_t nb_snapshots = 0;
  uint64_t snapshots_offset = 0;
  uint64_t incompatible_features = 0;
  uint64_t compatible_features = 0;
  uint64_t autoclear_features = 0;
  uint32_t refcount_order = 4;
  uint32_t header_length = kV3HeaderLength;
  CompressionType compression_type = CompressionType::kZlib;
  // Additional header fields past compression_type that Cella does not know, preserved when
  // the header is rewritten ("=== Additional fields ===" rule 2).
  std::vector<uint8_t> unknown_additional_fields;

  // Extensions ("=== Header extensions ===") and the backing file name that follows them.
  std::string backing_file;
  std::string backing_format;
  std::vector<FeatureName> feature_names;
  std::optional<BitmapsExtension> bitmaps;
  bool has_encryption_extension = false;
  std::string external_data_file;
  // Extensions Cella does not know, kept verbatim (type, data) when the header is rewritten.
  std::vector<std::pair<uint32_t, std::vector<uint8_t>>> unknown_extensions;

  uint64_t cluster_size() const { return uint64_t{1} << cluster_bits; }
  uint32_t refcount_bits() const { return 1u << refcount_order; }
  bool lazy_refcounts() const { return (compatible_features & kCompatLazyRefcounts) != 0; }
};

// Parses the first cluster (or as much of the file as exists, at most one cluster) of a qcow2
// image. Errors name the field that is wrong; the refused features are named too.
Result<Header> parse_header(std::span<const uint8_t> first_cluster, uint64_t file_size);

// Serializes a header, its extensions and the backing file name into one cluster. Errors when
// they do not fit.
Result<std::vector<uint8_t>> serialize_header(const Header& header);

// The name of a feature bit: from the image's feature name table, else Cella's own.
std::string feature_name(const Header& header, FeatureType type, unsigned bit);

// The feature name table Cella writes into version 3 images.
std::vector<FeatureName> default_feature_names();

const char* compression_type_name(CompressionType type);

}  // namespace cella::block::qcow2
