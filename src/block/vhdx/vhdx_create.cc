#include "block/vhdx/vhdx_create.h"

#include <algorithm>
#include <filesystem>

#include "base/bits.h"
#include "block/option_values.h"
#include "block/parent_paths.h"
#include "block/vhdx/vhdx_image.h"

namespace cella::block::vhdx {

namespace {

constexpr uint64_t kDefaultBlockSize = 32 << 20;  // what Hyper-V picks for dynamic disks
constexpr uint64_t kDefaultLogSize = 1 << 20;
constexpr uint64_t kMaxLogSize = 1ull << 31;  // LogLength is 32-bit ([MS-VHDX] 2.2.2)

struct Item {
  Guid id;
  std::vector<uint8_t> value;
  bool virtual_disk;
};

struct Plan {
  Metadata metadata;
  uint64_t log_size = 0;
  bool fixed = false;
  bool zero_state = false;
  std::vector<std::pair<std::string, std::string>> locator;
};

Result<Plan> plan(const CreateOptions& options) {
  Plan plan;
  const std::string subformat = string_option(options, "subformat", "dynamic");
  if (subformat != "dynamic" && subformat != "fixed") {
    return make_error("subformat '{}' is not dynamic or fixed", subformat);
  }
  plan.fixed = subformat == "fixed";
  CELLA_TRY_ASSIGN(log_size, size_option(options, "log_size", kDefaultLogSize));
  if (log_size < kMiB || log_size % kMiB != 0 || log_size > kMaxLogSize) {
    return make_error("log_size {} is not a multiple of 1 MiB from 1 MiB to 2 GiB", log_size);
  }
  plan.log_size = log_size;
  CELLA_TRY_ASSIGN(zero_state, bool_option(options, "block_state_zero", false));
  plan.zero_state = zero_state;
  Metadata& metadata = plan.metadata;
  metadata.virtual_disk_id = Guid::random();
  uint64_t default_block = kDefaultBlockSize;
  uint64_t size = options.size;
  if (!options.backing_file.empty()) {
    if (plan.fixed)
      return make_error("a differencing VHDX is sparse: subformat=fixed does not apply");
    if (!options.backing_format.empty() && options.backing_format != "vhdx") {
      return make_error("a differencing VHDX needs a VHDX parent, not {}", options.backing_format);
    }
    const std::string parent_path = backing_file_path(options.path, options.backing_file);
    OpenOptions open_options;
    open_options.read_only = true;
    open_options.format = "vhdx";
    CELLA_TRY_ASSIGN(parent, open_image(parent_path, open_options));
    const auto* vhdx = static_cast<const VhdxImage*>(parent.get());
    metadata.has_parent = true;
    metadata.logical_sector_size = vhdx->metadata().logical_sector_size;
    metadata.physical_sector_size = vhdx->metadata().physical_sector_size;
    default_block = vhdx->metadata().block_size;
    if (size == 0) size = parent->size();
    // [MS-VHDX] 2.6.2.6.3: parent_linkage is the parent's DataWriteGuid, in braces.
    std::string linkage = fmt::format("{{{}}}", vhdx->header().data_write_guid.to_string());
    std::transform(linkage.begin(), linkage.end(), linkage.begin(), ::toupper);
    const std::string folder =
        std::filesystem::absolute(options.path).parent_path().lexically_normal();
    plan.locator = {{"parent_linkage", linkage},
                    {"relative_path", windows_relative_path(parent_path, folder)}};
  }
  if (options.backing_file.empty()) {
    // A disk smaller than the default block gets the smallest block holding it: no block (and,
    // for a fixed disk, no reservation) reaches far past the end of the disk.
    while (default_block > kMinBlockSize && default_block / 2 >= size) default_block /= 2;
  }
  CELLA_TRY_ASSIGN(block_size, size_option(options, "block_size", default_block));
  if (block_size == 0) block_size = default_block;  // qemu-img's "0: automatic"
  if (block_size < kMinBlockSize || block_size > kMaxBlockSize || !is_power_of_two(block_size)) {
    return make_error("block_size {} is not a power of two from 1 MiB to 256 MiB", block_size);
  }
  metadata.block_size = static_cast<uint32_t>(block_size);
  // Fixed images keep their blocks allocated ([MS-VHDX] 2.6.2.1 LeaveBlocksAllocated).
  metadata.leave_blocks_allocated = plan.fixed;
  size = align_up(size, metadata.logical_sector_size);
  if (size == 0) return make_error("a VHDX image needs a size above zero");
  if (size > kMaxVirtualDiskSize)
    return make_error("{} bytes is above the VHDX maximum of 64 TiB", size);
  metadata.virtual_disk_size = size;
  return plan;
}

}  // namespace

Result<void> create_vhdx(const CreateOptions& options) {
  CELLA_TRY_ASSIGN(p, plan(options));
  const Metadata& metadata = p.metadata;
  const BatLayout layout = BatLayout::compute(metadata.virtual_disk_size, metadata.block_size,
                                              metadata.logical_sector_size, metadata.has_parent);
  // Layout: header section, log, metadata region, BAT region, then payload blocks.
  const uint64_t log_offset = kHeaderSectionSize;
  const uint64_t metadata_offset = log_offset + p.log_size;
  const uint64_t bat_offset = metadata_offset + kMiB;
  const uint64_t bat_length = std::max(kMiB, align_up(layout.total_entries * 8, kMiB));
  const uint64_t data_offset = bat_offset + bat_length;
  if (bat_length > UINT32_MAX) return make_error("the disk needs a BAT larger than 4 GiB");

  CELLA_TRY_ASSIGN(file, HostFile::create(options.path));
  CELLA_TRY(file.write(kFileIdentifierOffset, serialize_file_identifier("Cella")));
  Header header;
  header.file_write_guid = Guid::random();
  header.data_write_guid = Guid::random();
  header.log_length = static_cast<uint32_t>(p.log_size);
  header.log_offset = log_offset;
  for (int i = 0; i < 2; ++i) {
    header.sequence_number = i + 1;
    CELLA_TRY(file.write(kHeaderOffsets[i], serialize_header(header)));
  }
  const std::vector<RegionEntry> regions = {
      {kBatRegion, bat_offset, static_cast<uint32_t>(bat_length), true},
      {kMetadataRegion, metadata_offset, static_cast<uint32_t>(kMiB), true},
  };
  const std::vector<uint8_t> table = serialize_region_table(regions);
  for (uint64_t offset : kRegionTableOffsets) CELLA_TRY(file.write(offset, table));

  // [MS-VHDX] 2.6.2: the items, packed after the 64 KiB table.
  std::vector<Item> items = {
      {kFileParametersItem, encode_file_parameters(metadata), false},
      {kVirtualDiskSizeItem, encode_u64(metadata.virtual_disk_size), true},
      {kVirtualDiskIdItem, encode_guid(metadata.virtual_disk_id), true},
      {kLogicalSectorSizeItem, encode_u32(metadata.logical_sector_size), true},
      {kPhysicalSectorSizeItem, encode_u32(metadata.physical_sector_size), true},
  };
  if (metadata.has_parent) {
    CELLA_TRY_ASSIGN(locator, encode_parent_locator(p.locator));
    items.push_back({kParentLocatorItem, std::move(locator), false});
  }
  std::vector<MetadataEntry> entries;
  uint64_t item_offset = kMetadataTableSize;
  for (const Item& item : items) {
    entries.push_back({item.id, static_cast<uint32_t>(item_offset),
                       static_cast<uint32_t>(item.value.size()), false, item.virtual_disk, true});
    CELLA_TRY(file.write(metadata_offset + item_offset, item.value));
    item_offset += align_up(item.value.size(), 8);
  }
  CELLA_TRY(file.write(metadata_offset, serialize_metadata_table(entries)));

  // The BAT: fixed images have every payload block present, in order; dynamic and
  // differencing ones none (or, with block_state_zero, every block in the zero state).
  std::vector<uint8_t> bat(layout.total_entries * 8, 0);
  uint64_t file_end = data_offset;
  for (uint64_t block = 0; block < layout.payload_blocks; ++block) {
    uint64_t entry = 0;
    if (p.fixed) {
      entry = make_entry(PayloadState::kFullyPresent, file_end);
      file_end += metadata.block_size;
    } else if (p.zero_state) {
      entry = make_entry(PayloadState::kZero, 0);
    }
    store_le<uint64_t>(&bat[layout.payload_index(block) * 8], entry);
  }
  CELLA_TRY(file.write(bat_offset, bat));
  CELLA_TRY(file.truncate(file_end));
  if (p.fixed) CELLA_TRY(file.allocate(data_offset, file_end - data_offset));
  return file.flush();
}

}  // namespace cella::block::vhdx
