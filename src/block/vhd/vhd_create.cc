#include "block/vhd/vhd_create.h"

#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <filesystem>

#include "base/bits.h"
#include "block/option_values.h"
#include "block/parent_paths.h"
#include "block/vhd/vhd_format.h"
#include "block/vhd/vhd_geometry.h"
#include "block/vhd/vhd_image.h"
#include "block/vhd/vhd_parent.h"

namespace cella::block::vhd {

namespace {

namespace fs = std::filesystem;

constexpr uint32_t kDefaultBlockSize = 2 << 20;  // [VHD] "Dynamic Disk Header Format"
constexpr uint32_t kMinCreateBlockSize = 4096;
constexpr uint32_t kMaxCreateBlockSize = 256u << 20;
constexpr uint32_t kCreatorVersion = 0x00010000;
constexpr uint32_t kHostOsWindows = 0x5769326B;  // "Wi2k", what Virtual PC, Hyper-V and qemu write

uint32_t vhd_now() {
  return static_cast<uint32_t>(std::max<int64_t>(0, std::time(nullptr) - kVhdEpoch));
}

struct Parent {
  std::string path;  // absolute, normalized
  Footer footer;
  uint64_t size = 0;
  uint32_t mtime = 0;  // VHD time stamp of the file's modification time
};

Result<Parent> open_parent(const CreateOptions& options) {
  if (!options.backing_format.empty() && options.backing_format != "vhd" &&
      options.backing_format != "vpc") {
    return make_error("a differencing VHD needs a VHD parent, not {}", options.backing_format);
  }
  Parent parent;
  parent.path = backing_file_path(options.path, options.backing_file);
  OpenOptions open_options;
  open_options.read_only = true;
  open_options.format = "vhd";
  CELLA_TRY_ASSIGN(image, open_image(parent.path, open_options));
  parent.footer = static_cast<const VhdImage*>(image.get())->footer();
  parent.size = image->size();
  struct stat st {};
  if (::stat(parent.path.c_str(), &st) != 0) return errno_error(parent.path);
  parent.mtime = static_cast<uint32_t>(std::max<int64_t>(0, st.st_mtime - kVhdEpoch));
  return parent;
}

Footer new_footer(const SizePlan& plan, DiskType type) {
  Footer footer;
  footer.data_offset = type == DiskType::kFixed ? kNoDataOffset : kFooterSize;
  footer.timestamp = vhd_now();
  std::copy(std::begin(kCreatorApplication), std::end(kCreatorApplication),
            footer.creator_application.begin());
  footer.creator_version = kCreatorVersion;
  footer.creator_host_os = kHostOsWindows;
  footer.original_size = plan.size;
  footer.current_size = plan.size;
  footer.geometry = plan.geometry;
  footer.disk_type = static_cast<uint32_t>(type);
  footer.unique_id = Guid::random();
  return footer;
}

}  // namespace

Result<void> create_vhd(const CreateOptions& options) {
  const std::string subformat = string_option(options, "subformat", "dynamic");
  if (subformat != "dynamic" && subformat != "fixed") {
    return make_error("subformat '{}' is not dynamic or fixed", subformat);
  }
  CELLA_TRY_ASSIGN(force_size, bool_option(options, "force_size", false));
  CELLA_TRY_ASSIGN(block_size, size_option(options, "block_size", kDefaultBlockSize));
  if (block_size < kMinCreateBlockSize || block_size > kMaxCreateBlockSize ||
      !is_power_of_two(block_size)) {
    return make_error("block_size {} is not a power of two between 4 KiB and 256 MiB", block_size);
  }
  const bool differencing = !options.backing_file.empty();
  if (differencing && subformat == "fixed") {
    return make_error("a differencing VHD is sparse: subformat=fixed does not apply");
  }

  DiskType type = subformat == "fixed" ? DiskType::kFixed : DiskType::kDynamic;
  SizePlan plan;
  Parent parent;
  if (differencing) {
    CELLA_TRY_ASSIGN(opened, open_parent(options));
    parent = std::move(opened);
    type = DiskType::kDifferencing;
    if (options.size == 0 || options.size == parent.size) {
      // The child presents the parent's disk: same size, same geometry.
      plan = SizePlan{parent.size, parent.footer.geometry};
    } else {
      CELLA_TRY_ASSIGN(planned, plan_size(options.size, force_size));
      plan = planned;
    }
  } else {
    CELLA_TRY_ASSIGN(planned, plan_size(options.size, force_size));
    plan = planned;
  }

  Footer footer = new_footer(plan, type);
  CELLA_TRY_ASSIGN(file, HostFile::create(options.path));
  if (type == DiskType::kFixed) {
    CELLA_TRY(file.truncate(footer.current_size));
    CELLA_TRY(file.write(footer.current_size, serialize_footer(footer)));
    return file.flush();
  }

  // [VHD] "Dynamic Disk Header Format": footer copy at 0, header at 512, BAT after it (padded
  // to a sector), then the parent locators' data, then blocks as they are written.
  DynamicHeader header;
  header.table_offset = kFooterSize + kDynamicHeaderSize;
  header.block_size = static_cast<uint32_t>(block_size);
  header.max_table_entries =
      static_cast<uint32_t>((footer.current_size + block_size - 1) / block_size);
  const uint64_t bat_bytes = align_up(uint64_t{header.max_table_entries} * 4, kSectorSize);
  uint64_t next = header.table_offset + bat_bytes;
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> locator_data;
  if (differencing) {
    header.parent_unique_id = parent.footer.unique_id;
    header.parent_timestamp = parent.mtime;
    CELLA_TRY_ASSIGN(name, make_parent_name(parent.path));
    header.parent_name = name;
    const std::string child_folder = fs::absolute(options.path).parent_path().lexically_normal();
    CELLA_TRY_ASSIGN(locators, make_locators(parent.path, child_folder));
    for (size_t i = 0; i < locators.size(); ++i) {
      const uint64_t space = align_up(std::max<uint64_t>(locators[i].bytes.size(), 1), kSectorSize);
      header.locators[i] = ParentLocator{static_cast<uint32_t>(locators[i].code),
                                         static_cast<uint32_t>(space / kSectorSize),
                                         static_cast<uint32_t>(locators[i].bytes.size()), next};
      locator_data.emplace_back(next, std::move(locators[i].bytes));
      next += space;
    }
  }
  const auto footer_bytes = serialize_footer(footer);
  CELLA_TRY(file.write(0, footer_bytes));
  CELLA_TRY(file.write(kFooterSize, serialize_dynamic_header(header)));
  CELLA_TRY(file.write(header.table_offset, std::vector<uint8_t>(bat_bytes, 0xFF)));
  for (const auto& [offset, bytes] : locator_data) {
    std::vector<uint8_t> padded(align_up(std::max<uint64_t>(bytes.size(), 1), kSectorSize), 0);
    std::copy(bytes.begin(), bytes.end(), padded.begin());
    CELLA_TRY(file.write(offset, padded));
  }
  CELLA_TRY(file.write(next, footer_bytes));
  return file.flush();
}

}  // namespace cella::block::vhd
