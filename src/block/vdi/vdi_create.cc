// Creating VDI images: dynamic (default), static (`-o static=on`, every block allocated) and
// differencing (a parent given), with `-o block_size` (1 MiB by default, as VirtualBox).
#include <filesystem>

#include "base/bits.h"
#include "block/format_registry.h"
#include "block/option_values.h"
#include "block/vdi/vdi.h"
#include "block/vdi/vdi_image.h"

namespace cella::block::vdi {

namespace {

// The data starts on a 1 MiB boundary: aligned for the host, and room for the map to grow
// (a disk of up to 255 GiB of 1 MiB blocks) without moving anything.
constexpr uint64_t kDataAlignment = 1 << 20;
constexpr uint32_t kMapOffset = 512;

Result<uint32_t> block_size_option(const CreateOptions& options) {
  CELLA_TRY_ASSIGN(size, size_option(options, "block_size", kDefaultBlockSize));
  if (!is_power_of_two(size) || size < 4096 || size > kMaxBlockSize) {
    return make_error("block_size '{}' must be a power of two from 4 KiB to 64 MiB",
                      options.options.at("block_size"));
  }
  return static_cast<uint32_t>(size);
}

}  // namespace

Result<void> create_vdi(const CreateOptions& options) {
  Header header;
  header.file_info = kFileInfo;
  header.legacy_geometry = Geometry{0, 0, 0, 512};
  header.lchs_geometry = Geometry{0, 0, 0, 512};
  CELLA_TRY_ASSIGN(fixed, bool_option(options, "static", false));
  CELLA_TRY_ASSIGN(block_size, block_size_option(options));
  header.block_size = block_size;
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
    const std::string path = resolve_backing_path(options.path, name);
    const auto folder = [](const std::string& file) {
      std::error_code error;
      return std::filesystem::canonical(std::filesystem::absolute(file).parent_path(), error);
    };
    if (folder(path) != folder(options.path)) {
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
  // Only the header and the block map are written; the gap up to the data is left a hole
  // (the map may grow into it).
  std::vector<uint8_t> start(align_up(kMapOffset + blocks * 4, 512), 0);
  encode_header(header, start);
  for (uint32_t block = 0; block < header.blocks; ++block) {
    store_le<uint32_t>(&start[kMapOffset + block * 4], fixed ? block : kBlockFree);
  }
  CELLA_TRY(file.write(0, start));
  CELLA_TRY(file.truncate(data_offset));
  if (fixed) CELLA_TRY(file.allocate(data_offset, blocks * header.block_size));
  return file.flush();
}

}  // namespace cella::block::vdi
