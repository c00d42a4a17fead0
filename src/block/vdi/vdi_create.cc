// Creating VDI images: dynamic (default), static (`-o static=on`, every block allocated) and
// differencing (a parent given), with `-o block_size` (1 MiB by default, as VirtualBox).
#include <filesystem>

#include "base/bits.h"
#include "block/chain_helpers.h"
#include "block/vdi/vdi.h"
#include "block/vdi/vdi_image.h"

namespace cella::block::vdi {

namespace {

// The data starts on a 1 MiB boundary: aligned for the host, and room for the map to grow
// (a disk of up to 255 GiB of 1 MiB blocks) without moving anything.
constexpr uint64_t kDataAlignment = 1 << 20;
constexpr uint32_t kMapOffset = 512;

Result<bool> parse_bool(std::string_view key, std::string_view value) {
  if (value == "on" || value == "true" || value == "yes") return true;
  if (value == "off" || value == "false" || value == "no") return false;
  return make_error("option {}: '{}' is not on or off", key, value);
}

Result<uint32_t> parse_block_size(std::string_view value) {
  uint64_t size = 0;
  size_t i = 0;
  for (; i < value.size() && value[i] >= '0' && value[i] <= '9'; ++i) {
    size = size * 10 + static_cast<uint64_t>(value[i] - '0');
    if (size > kMaxBlockSize) break;
  }
  const std::string_view suffix = value.substr(i);
  if (suffix == "k" || suffix == "K")
    size <<= 10;
  else if (suffix == "M")
    size <<= 20;
  else if (!suffix.empty())
    size = 0;
  if (!is_power_of_two(size) || size < 4096 || size > kMaxBlockSize) {
    return make_error("block_size '{}' must be a power of two from 4 KiB to 64 MiB", value);
  }
  return static_cast<uint32_t>(size);
}

}  // namespace

Result<void> create_vdi(const CreateOptions& options) {
  Header header;
  header.file_info = kFileInfo;
  header.legacy_geometry = Geometry{0, 0, 0, 512};
  header.lchs_geometry = Geometry{0, 0, 0, 512};
  bool fixed = false;
  if (auto it = options.options.find("static"); it != options.options.end()) {
    CELLA_TRY_ASSIGN(value, parse_bool("static", it->second));
    fixed = value;
  }
  if (auto it = options.options.find("block_size"); it != options.options.end()) {
    CELLA_TRY_ASSIGN(value, parse_block_size(it->second));
    header.block_size = value;
  }
  header.type = fixed ? ImageType::kStatic : ImageType::kDynamic;
  uint64_t size = options.size;
  if (!options.backing_file.empty()) {
    // A differencing image names its parent by UUID only and finds it in its own folder.
    if (fixed) return make_error("a static VDI image cannot have a parent");
    if (!options.backing_format.empty() && options.backing_format != "vdi") {
      return make_error("the parent of a VDI differencing image must be a VDI image, not {}",
                        options.backing_format);
    }
    const std::string& name = options.backing_file;
    const std::string path = path_beside(options.path, name);
    std::error_code error;
    if (std::filesystem::canonical(folder_of(path), error) !=
        std::filesystem::canonical(folder_of(options.path), error)) {
      return make_error(
          "a VDI differencing image finds its parent by UUID in its own folder: "
          "{} must be in the same folder as {}",
          name, options.path);
    }
    OpenOptions open;
    open.read_only = true;
    open.format = "vdi";
    auto parent = open_image(path, open);
    if (!parent) return parent.error().context(fmt::format("parent \"{}\"", name));
    const Header& parent_header = static_cast<const VdiImage&>(**parent).header();
    header.type = ImageType::kDiff;
    header.linkage_uuid = parent_header.create_uuid;
    header.parent_modify_uuid = parent_header.modify_uuid;
    if (size == 0) size = (*parent)->size();
  }
  header.disk_size = align_up(size, 512);  // whole sectors, as VirtualBox and qemu expect
  const uint64_t blocks = (header.disk_size + header.block_size - 1) / header.block_size;
  if (blocks > kMaxBlocks) return make_error("{} bytes is too large for a VDI image", size);
  header.blocks = static_cast<uint32_t>(blocks);
  header.blocks_offset = kMapOffset;
  const uint64_t data_offset = align_up(kMapOffset + blocks * 4, kDataAlignment);
  if (data_offset > UINT32_MAX) return make_error("{} bytes is too large for a VDI image", size);
  header.data_offset = static_cast<uint32_t>(data_offset);
  header.create_uuid = random_uuid();
  header.modify_uuid = random_uuid();
  if (fixed) header.blocks_allocated = header.blocks;

  CELLA_TRY_ASSIGN(file, HostFile::create(options.path));
  std::vector<uint8_t> start(data_offset, 0);
  encode_header(header, start);
  for (uint32_t block = 0; block < header.blocks; ++block) {
    store_le<uint32_t>(&start[kMapOffset + block * 4], fixed ? block : kBlockFree);
  }
  CELLA_TRY(file.write(0, start));
  if (fixed) CELLA_TRY(file.allocate(data_offset, blocks * header.block_size));
  return file.flush();
}

}  // namespace cella::block::vdi
