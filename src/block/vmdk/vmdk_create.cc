// Creating VMDK disks with qemu-img's options: subformat, adapter_type, hwversion, compat6,
// toolsversion, zeroed_grain, and a parent (backing_file) for delta disks.
#include <algorithm>
#include <array>
#include <cstring>

#include "base/bits.h"
#include "block/option_values.h"
#include "block/vmdk/descriptor.h"
#include "block/vmdk/sparse_header.h"
#include "block/vmdk/stream_extent.h"
#include "block/vmdk/vmdk.h"
#include "block/vmdk/vmdk_image.h"

namespace cella::block::vmdk {

namespace {

enum class Layout : uint8_t { kSparse, kFlat, kStream };

// The subformats (createType values) Cella creates: how each stores its data, whether it has a
// separate descriptor, and the extent size limit of the split ones (2 GiB).
struct Subformat {
  std::string_view name;
  Layout layout;
  bool separate_descriptor;
  uint64_t max_extent_sectors;  // 0: one extent
  const char* extent_suffix;    // "-flat", "-s", "-f"
};
constexpr uint64_t kTwoGbSectors = (uint64_t{2} << 30) / 512;
constexpr std::array<Subformat, 5> kSubformats = {{
    {"monolithicSparse", Layout::kSparse, false, 0, ""},
    {"monolithicFlat", Layout::kFlat, true, 0, "-flat"},
    {"twoGbMaxExtentSparse", Layout::kSparse, true, kTwoGbSectors, "-s"},
    {"twoGbMaxExtentFlat", Layout::kFlat, true, kTwoGbSectors, "-f"},
    {"streamOptimized", Layout::kStream, false, 0, ""},
}};

// "The Disk Database", ddb.adapterType; BIOS geometry uses 16 heads for IDE, 255 otherwise.
constexpr std::array<std::string_view, 4> kAdapterTypes = {"ide", "buslogic", "lsilogic",
                                                           "legacyESX"};
constexpr uint64_t kDescriptorSectors = 20;  // room reserved for an embedded descriptor

struct Settings {
  const Subformat* subformat = &kSubformats[0];
  std::string adapter = "ide";
  std::string hw_version = "4";
  std::string tools_version = "2147483647";
  bool zeroed_grain = false;
};

Result<Settings> parse_settings(const CreateOptions& options) {
  Settings settings;
  const auto& o = options.options;
  if (auto it = o.find("subformat"); it != o.end()) {
    auto found = std::find_if(kSubformats.begin(), kSubformats.end(),
                              [&](const Subformat& s) { return s.name == it->second; });
    if (found == kSubformats.end()) {
      return make_error(
          "unknown VMDK subformat '{}' (monolithicSparse, monolithicFlat, "
          "twoGbMaxExtentSparse, twoGbMaxExtentFlat or streamOptimized)",
          it->second);
    }
    settings.subformat = &*found;
  }
  if (auto it = o.find("adapter_type"); it != o.end()) {
    if (std::find(kAdapterTypes.begin(), kAdapterTypes.end(), it->second) == kAdapterTypes.end()) {
      return make_error("unknown adapter type '{}' (ide, buslogic, lsilogic or legacyESX)",
                        it->second);
    }
    settings.adapter = it->second;
  }
  CELLA_TRY_ASSIGN(compat6, bool_option(options, "compat6", false));
  if (compat6) settings.hw_version = std::to_string(6);  // not a literal: GCC 12 -Wrestrict
  if (auto it = o.find("hwversion"); it != o.end() && it->second != "undefined") {
    if (compat6) return make_error("compat6 cannot be combined with hwversion");
    if (it->second.empty() || it->second.size() > 4 ||
        !std::all_of(it->second.begin(), it->second.end(),
                     [](char c) { return c >= '0' && c <= '9'; })) {
      return make_error("hwversion '{}' is not a number", it->second);
    }
    settings.hw_version = it->second;
  }
  if (auto it = o.find("toolsversion"); it != o.end()) {
    if (it->second.empty() || it->second.find_first_of("\"\n\r") != std::string::npos) {
      return make_error("invalid toolsversion '{}'", it->second);
    }
    settings.tools_version = it->second;
  }
  CELLA_TRY_ASSIGN(zeroed_grain, bool_option(options, "zeroed_grain", false));
  settings.zeroed_grain = zeroed_grain;
  return settings;
}

std::vector<std::pair<std::string, std::string>> disk_database(const Settings& settings,
                                                               uint64_t sectors) {
  const uint64_t heads = settings.adapter == "ide" ? 16 : 255;
  const uint64_t cylinders = std::min<uint64_t>(sectors / (heads * 63), 16383);
  return {
      {"virtualHWVersion", settings.hw_version}, {"geometry.cylinders", std::to_string(cylinders)},
      {"geometry.heads", std::to_string(heads)}, {"geometry.sectors", "63"},
      {"adapterType", settings.adapter},         {"toolsVersion", settings.tools_version}};
}

Result<void> write_bytes(HostFile& file, uint64_t offset, std::string_view text) {
  return file.write(
      offset, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

// A grain directory whose entries point at consecutive preallocated grain tables.
std::vector<uint8_t> directory(const SparseHeader& header, uint64_t first_table) {
  const uint64_t table_sectors = align_up(header.gt_bytes(), 512) / 512;
  std::vector<uint8_t> bytes(align_up(header.gd_bytes(), 512), 0);
  for (uint64_t t = 0; t < header.gd_entries(); ++t) {
    store_le<uint32_t>(&bytes[t * 4], static_cast<uint32_t>(first_table + t * table_sectors));
  }
  return bytes;
}

// "Hosted Sparse Extents", "Creating a New Sparse Extent": header, embedded descriptor,
// redundant grain directory and tables, grain directory and tables, then the grains from
// `overhead` on. The grain tables are preallocated (as holes) as VMware and qemu do.
Result<void> create_sparse_extent(HostFile& file, uint64_t sectors, std::string_view descriptor,
                                  bool zeroed_grain) {
  SparseHeader header;
  header.version = zeroed_grain ? 2 : 1;
  header.flags = kFlagValidNewlineTest | kFlagRedundantGrainTable |
                 (zeroed_grain ? uint32_t{kFlagZeroedGrainGte} : 0u);
  header.capacity = sectors;
  if (header.gd_entries() > kMaxGdEntries) {
    return make_error("a sparse extent of {} bytes is too large", sectors * 512);
  }
  uint64_t sector = 1;
  if (!descriptor.empty()) {
    header.descriptor_offset = 1;
    header.descriptor_size = std::max(kDescriptorSectors, align_up(descriptor.size(), 512) / 512);
    sector += header.descriptor_size;
  }
  const uint64_t gd_sectors = align_up(header.gd_bytes(), 512) / 512;
  const uint64_t tables_sectors = header.gd_entries() * (align_up(header.gt_bytes(), 512) / 512);
  header.rgd_offset = sector;
  sector += gd_sectors + tables_sectors;
  header.gd_offset = sector;
  sector += gd_sectors + tables_sectors;
  header.overhead = align_up(sector, header.grain_size);
  if (header.overhead > UINT32_MAX) return make_error("the grain tables do not fit 32-bit offsets");
  std::vector<uint8_t> start((1 + header.descriptor_size) * 512, 0);
  encode_sparse_header(header, start);
  if (!descriptor.empty()) std::memcpy(&start[512], descriptor.data(), descriptor.size());
  CELLA_TRY(file.truncate(header.overhead * 512));
  CELLA_TRY(file.write(0, start));
  CELLA_TRY(file.write(header.rgd_offset * 512, directory(header, header.rgd_offset + gd_sectors)));
  CELLA_TRY(file.write(header.gd_offset * 512, directory(header, header.gd_offset + gd_sectors)));
  return file.flush();
}

// "Stream-Optimized Compressed Sparse Extents": the header (GD_AT_END), the descriptor, then
// an empty stream: grain directory, footer and end-of-stream marker.
Result<void> create_stream_extent(HostFile& file, uint64_t sectors, std::string_view descriptor) {
  SparseHeader header;
  header.version = 3;
  header.flags = kFlagValidNewlineTest | kFlagCompressedGrains | kFlagMarkers;
  header.compress_algorithm = kCompressionDeflate;
  header.capacity = sectors;
  if (header.gd_entries() > kMaxGdEntries) {
    return make_error("a stream of {} bytes is too large", sectors * 512);
  }
  header.descriptor_offset = 1;
  header.descriptor_size = std::max(kDescriptorSectors, align_up(descriptor.size(), 512) / 512);
  header.overhead = align_up(1 + header.descriptor_size, header.grain_size);
  header.gd_offset = kGdAtEnd;
  std::vector<uint8_t> start(header.overhead * 512, 0);
  encode_sparse_header(header, start);
  if (!descriptor.empty()) std::memcpy(&start[512], descriptor.data(), descriptor.size());
  CELLA_TRY(file.write(0, start));
  CELLA_TRY(StreamExtent::write_empty_trailer(file, header, header.overhead * 512));
  return file.flush();
}

std::string base_name(const std::string& path) {
  const size_t slash = path.rfind('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.size() > 5 && name.ends_with(".vmdk")) name.resize(name.size() - 5);
  return name;
}

struct Parent {
  uint32_t cid = kNoParentCid;
  uint64_t size = 0;
};

Result<Parent> open_parent(const CreateOptions& options) {
  if (!options.backing_format.empty() && options.backing_format != "vmdk") {
    return make_error("the parent of a VMDK delta disk must be a VMDK image, not {}",
                      options.backing_format);
  }
  const std::string& name = options.backing_file;
  const std::string path = resolve_backing_path(options.path, name);
  OpenOptions open_options;
  open_options.read_only = true;
  open_options.format = "vmdk";
  auto parent = open_image(path, open_options);
  if (!parent) return parent.error().context(fmt::format("parent \"{}\"", name));
  const auto* vmdk_parent = dynamic_cast<const VmdkImage*>(parent->get());
  return Parent{vmdk_parent->cid(), (*parent)->size()};
}

}  // namespace

Result<void> create_vmdk(const CreateOptions& options) {
  CELLA_TRY_ASSIGN(settings, parse_settings(options));
  const Subformat& subformat = *settings.subformat;
  Parent parent;
  uint64_t size = options.size;
  if (!options.backing_file.empty()) {
    if (subformat.layout != Layout::kSparse) {
      return make_error("a {} image cannot have a parent (backing file)", subformat.name);
    }
    CELLA_TRY_ASSIGN(opened, open_parent(options));
    parent = opened;
    if (size == 0) size = parent.size;
  }
  if (settings.zeroed_grain && subformat.layout != Layout::kSparse) {
    return make_error("zeroed_grain applies to sparse subformats only");
  }
  const uint64_t sectors = align_up(size, 512) / 512;  // sizes round up to whole sectors
  if (sectors > kMaxDiskSectors) return make_error("{} bytes is too large for a VMDK disk", size);

  NewDescriptor descriptor;
  descriptor.cid = new_cid(kNoParentCid);
  descriptor.parent_cid = parent.cid;
  descriptor.create_type = std::string(subformat.name);
  descriptor.parent_file_name_hint = options.backing_file;
  descriptor.ddb = disk_database(settings, sectors);
  const std::string base = base_name(options.path);

  if (!subformat.separate_descriptor) {
    // One file: the extent carries the descriptor ("Hosted Sparse Extent Header").
    descriptor.extents.push_back(
        {ExtentAccess::kReadWrite, sectors, ExtentType::kSparse, base + ".vmdk", 0});
    const std::string text = format_descriptor(descriptor);
    CELLA_TRY_ASSIGN(file, HostFile::create(options.path));
    if (subformat.layout == Layout::kStream) return create_stream_extent(file, sectors, text);
    return create_sparse_extent(file, sectors, text, settings.zeroed_grain);
  }

  // A descriptor file and one or more extent files.
  CELLA_TRY_ASSIGN(descriptor_file, HostFile::create(options.path));
  const uint64_t step = subformat.max_extent_sectors == 0 ? sectors : subformat.max_extent_sectors;
  uint64_t index = 0;
  for (uint64_t done = 0; done < sectors || index == 0; done += step) {
    const uint64_t extent_sectors = std::min(step, sectors - done);
    ++index;
    const std::string name =
        subformat.max_extent_sectors == 0
            ? base + subformat.extent_suffix + ".vmdk"
            : fmt::format("{}{}{:03}.vmdk", base, subformat.extent_suffix, index);
    CELLA_TRY_ASSIGN(file, HostFile::create(resolve_backing_path(options.path, name)));
    if (subformat.layout == Layout::kFlat) {
      CELLA_TRY(file.truncate(extent_sectors * 512));
      CELLA_TRY(file.flush());
      descriptor.extents.push_back(
          {ExtentAccess::kReadWrite, extent_sectors, ExtentType::kFlat, name, 0});
    } else {
      CELLA_TRY(create_sparse_extent(file, extent_sectors, {}, settings.zeroed_grain));
      descriptor.extents.push_back(
          {ExtentAccess::kReadWrite, extent_sectors, ExtentType::kSparse, name, 0});
    }
    if (extent_sectors == 0) break;
  }
  CELLA_TRY(write_bytes(descriptor_file, 0, format_descriptor(descriptor)));
  return descriptor_file.flush();
}

}  // namespace cella::block::vmdk
