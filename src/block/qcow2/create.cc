#include "block/qcow2/create.h"

#include <climits>
#include <cstdlib>
#include <filesystem>

#include "base/bits.h"
#include "block/create_options.h"
#include "block/qcow2/header.h"
#include "block/qcow2/layout.h"

namespace cella::block::qcow2 {

namespace {

constexpr uint64_t kSectorSize = 512;

enum class Preallocation { kOff, kMetadata, kFalloc, kFull };

struct NamedPreallocation {
  const char* name;
  Preallocation mode;
};

constexpr NamedPreallocation kPreallocations[] = {{"off", Preallocation::kOff},
                                                  {"metadata", Preallocation::kMetadata},
                                                  {"falloc", Preallocation::kFalloc},
                                                  {"full", Preallocation::kFull}};

struct NamedVersion {
  const char* name;
  uint32_t version;
};

// qemu-img's compat values: 0.10 is qcow2 version 2, 1.1 version 3.
constexpr NamedVersion kVersions[] = {{"0.10", 2}, {"v2", 2}, {"1.1", 3}, {"v3", 3}};

struct Params {
  Header header;
  Preallocation preallocation = Preallocation::kOff;
};

Result<Params> parse_options(const CreateOptions& options) {
  Params p;
  Header& h = p.header;
  if (auto compat = find_option(options, "compat")) {
    bool known = false;
    for (const NamedVersion& v : kVersions) {
      if (*compat == v.name) {
        h.version = v.version;
        known = true;
      }
    }
    if (!known) return make_error("compat '{}' is not 0.10 or 1.1", *compat);
  }
  CELLA_TRY_ASSIGN(cluster_size, size_option(options, "cluster_size"));
  if (cluster_size) {
    if (!is_power_of_two(*cluster_size) || *cluster_size < (1u << kMinClusterBits) ||
        *cluster_size > (1u << kMaxClusterBits)) {
      return make_error("cluster_size {} is not a power of two between 512 and 2M", *cluster_size);
    }
    h.cluster_bits = static_cast<uint32_t>(std::countr_zero(*cluster_size));
  }
  if (auto prealloc = find_option(options, "preallocation")) {
    bool known = false;
    for (const NamedPreallocation& mode : kPreallocations) {
      if (*prealloc == mode.name) {
        p.preallocation = mode.mode;
        known = true;
      }
    }
    if (!known)
      return make_error("preallocation '{}' is not off, metadata, falloc or full", *prealloc);
  }
  CELLA_TRY_ASSIGN(lazy, switch_option(options, "lazy_refcounts"));
  if (lazy && *lazy) {
    if (h.version < 3) return make_error("lazy_refcounts needs compat=1.1");
    h.compatible_features |= kCompatLazyRefcounts;
  }
  if (auto bits = find_option(options, "refcount_bits")) {
    const uint64_t value = std::strtoull(bits->c_str(), nullptr, 10);
    if (!is_power_of_two(value) || value > 64) {
      return make_error("refcount_bits {} is not a power of two up to 64", *bits);
    }
    if (h.version < 3 && value != 16) return make_error("compat=0.10 needs refcount_bits=16");
    h.refcount_order = static_cast<uint32_t>(std::countr_zero(value));
  }
  if (auto type = find_option(options, "compression_type")) {
    if (*type == "zstd") {
      if (h.version < 3) return make_error("compression_type=zstd needs compat=1.1");
      h.compression_type = CompressionType::kZstd;
      h.incompatible_features |= kIncompatCompressionType;
    } else if (*type != "zlib") {
      return make_error("compression_type '{}' is not zlib or zstd", *type);
    }
  }
  CELLA_TRY_ASSIGN(extended_l2, switch_option(options, "extended_l2"));
  if (extended_l2 && *extended_l2) {
    // "== Extended L2 Entries ==": version 3, clusters of at least 16 KiB.
    if (h.version < 3) return make_error("extended_l2 needs compat=1.1");
    if (h.cluster_bits < kMinExtendedL2ClusterBits) {
      return make_error("extended_l2 needs a cluster_size of at least 16k");
    }
    h.incompatible_features |= kIncompatExtendedL2;
  }
  h.backing_file = find_option(options, "backing_file").value_or(options.backing_file);
  h.backing_format = find_option(options, "backing_fmt").value_or(options.backing_format);
  CELLA_TRY_ASSIGN(size, size_option(options, "size"));
  h.size = size.value_or(options.size);
  if (h.size > (uint64_t{1} << 62)) return make_error("size {} is too large", h.size);
  if (h.version >= 3) h.feature_names = default_feature_names();
  h.header_length = h.version >= 3 ? kV3HeaderLength : kV2HeaderLength;
  return p;
}

// Opens the backing file to validate it, take its size when none was given, and record its
// format.
Result<void> resolve_backing(const CreateOptions& options, Header& h) {
  if (h.backing_file.empty()) return ok();
  std::filesystem::path backing(h.backing_file);
  if (backing.is_relative()) {
    backing = std::filesystem::path(options.path).parent_path() / backing;
  }
  std::error_code ec;
  if (std::filesystem::exists(options.path, ec) &&
      std::filesystem::equivalent(backing, options.path, ec)) {
    return make_error("the backing file '{}' is the image being created", h.backing_file);
  }
  OpenOptions open;
  open.read_only = true;
  open.format = h.backing_format;
  auto image = open_image(backing.string(), open);
  if (!image) return image.error().context(fmt::format("backing file '{}'", h.backing_file));
  if (h.backing_format.empty()) h.backing_format = (*image)->format_name();
  if (h.size == 0) h.size = (*image)->size();
  return ok();
}

Result<void> write_zeros(HostFile& file, uint64_t offset, uint64_t length) {
  std::vector<uint8_t> zeros(std::min<uint64_t>(length, 1 << 20), 0);
  while (length > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(length, zeros.size()));
    CELLA_TRY(file.write(offset, std::span<const uint8_t>(zeros.data(), n)));
    offset += n;
    length -= n;
  }
  return ok();
}

}  // namespace

std::vector<std::string> create_option_names() {
  return {"size",          "compat",         "cluster_size",  "backing_file",     "backing_fmt",
          "preallocation", "lazy_refcounts", "refcount_bits", "compression_type", "extended_l2"};
}

Result<void> create(const CreateOptions& options) {
  CELLA_TRY_ASSIGN(params, parse_options(options));
  Header& h = params.header;
  CELLA_TRY(resolve_backing(options, h));
  // Interoperability policy: qemu sees disks in 512-byte sectors and would ignore a partial
  // last sector, so sizes round up to a multiple of 512 (as qemu-img create does).
  h.size = align_up(h.size, kSectorSize);
  const Layout layout = Layout::from(h);
  const uint64_t cs = layout.cluster_size;
  const bool prealloc = params.preallocation != Preallocation::kOff;
  const uint64_t l1_entries = layout.l1_entries_for(h.size);
  if (l1_entries * 8 > kMaxL1Bytes) {
    return make_error("{} bytes need an L1 table larger than {} MiB with {}-byte clusters", h.size,
                      kMaxL1Bytes >> 20, cs);
  }
  const uint64_t l1_clusters = std::max<uint64_t>(1, layout.clusters_for(l1_entries * 8));
  const uint64_t data_clusters = prealloc ? layout.clusters_for(h.size) : 0;
  const uint64_t l2_tables = prealloc ? l1_entries : 0;
  // Layout: header | refcount table | refcount blocks | L1 | L2 tables | data.
  const uint64_t fixed = 1 + l1_clusters + l2_tables + data_clusters;
  uint64_t blocks = 1;
  uint64_t table = 1;
  for (;;) {
    const uint64_t total = fixed + table + blocks;
    const uint64_t need_blocks =
        (total + layout.refcount_block_entries - 1) / layout.refcount_block_entries;
    const uint64_t need_table = layout.clusters_for(need_blocks * 8);
    if (need_blocks == blocks && need_table == table) break;
    blocks = need_blocks;
    table = need_table;
  }
  if (table * cs > kMaxRefcountTableBytes) {
    return make_error("the refcount table of a {}-byte image would exceed {} MiB", h.size,
                      kMaxRefcountTableBytes >> 20);
  }
  const uint64_t total = fixed + table + blocks;
  const uint64_t blocks_start = 1 + table;
  const uint64_t l1_start = blocks_start + blocks;
  const uint64_t l2_start = l1_start + l1_clusters;
  const uint64_t data_start = l2_start + l2_tables;
  h.refcount_table_offset = cs;
  h.refcount_table_clusters = static_cast<uint32_t>(table);
  h.l1_table_offset = l1_start * cs;
  h.l1_size = static_cast<uint32_t>(l1_entries);
  CELLA_TRY_ASSIGN(first_cluster, serialize_header(h));

  CELLA_TRY_ASSIGN(file, HostFile::create(options.path));
  std::vector<uint8_t> buffer(table * cs, 0);
  for (uint64_t b = 0; b < blocks; ++b) store_be<uint64_t>(&buffer[b * 8], (blocks_start + b) * cs);
  CELLA_TRY(file.write(cs, buffer));
  buffer.assign(cs, 0);
  for (uint64_t b = 0; b < blocks; ++b) {
    std::fill(buffer.begin(), buffer.end(), 0);
    for (uint64_t i = 0; i < layout.refcount_block_entries; ++i) {
      if (b * layout.refcount_block_entries + i >= total) break;
      set_refcount_entry(buffer.data(), i, layout.refcount_order, 1);
    }
    CELLA_TRY(file.write((blocks_start + b) * cs, buffer));
  }
  buffer.assign(l1_clusters * cs, 0);
  for (uint64_t i = 0; i < l2_tables; ++i) {
    store_be<uint64_t>(&buffer[i * 8], ((l2_start + i) * cs) | kCopiedFlag);
  }
  CELLA_TRY(file.write(l1_start * cs, buffer));
  buffer.assign(cs, 0);
  for (uint64_t t = 0; t < l2_tables; ++t) {
    std::fill(buffer.begin(), buffer.end(), 0);
    for (uint64_t j = 0; j < layout.l2_entries; ++j) {
      const uint64_t k = t * layout.l2_entries + j;
      if (k >= data_clusters) break;
      const L2Slot slot =
          encode_allocated(layout, (data_start + k) * cs, true, layout.all_subclusters(), 0);
      store_be<uint64_t>(&buffer[j * layout.l2_entry_bytes], slot.entry);
      if (layout.extended_l2) store_be<uint64_t>(&buffer[j * 16 + 8], slot.bitmap);
    }
    CELLA_TRY(file.write((l2_start + t) * cs, buffer));
  }
  switch (params.preallocation) {
    case Preallocation::kOff:
    case Preallocation::kMetadata:
      CELLA_TRY(file.truncate(total * cs));
      break;
    case Preallocation::kFalloc:
      if (data_clusters > 0) CELLA_TRY(file.allocate(data_start * cs, data_clusters * cs));
      break;
    case Preallocation::kFull:
      CELLA_TRY(write_zeros(file, data_start * cs, data_clusters * cs));
      break;
  }
  // The header goes last: until it is written the file is not a qcow2 image.
  CELLA_TRY(file.write(0, first_cluster));
  return file.flush();
}

}  // namespace cella::block::qcow2
