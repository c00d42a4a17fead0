// Recognizing and opening VDI images, and finding the parent of a differencing image: VDI
// links a child to its parent by the parent's UUID only, so the parent is the VDI image of the
// child's folder (usually a .vdi file, recognized by its signature whatever its name) whose
// creation UUID is the child's linkage UUID, or an explicit path.
#include <fcntl.h>

#include <algorithm>
#include <filesystem>
#include <optional>

#include "base/bits.h"
#include "base/file.h"
#include "base/log.h"
#include "block/format_registry.h"
#include "block/vdi/vdi.h"
#include "block/vdi/vdi_image.h"

namespace cella::block::vdi {

namespace {

// The header of a file that may be a VDI image, read without locking it (a running VM may hold
// it); nullopt when it is not one.
std::optional<Header> peek_header(const std::string& path) {
  auto fd = open_file(path, O_RDONLY);
  if (!fd) return std::nullopt;
  std::vector<uint8_t> bytes(kHeaderEnd, 0);
  if (!pread_exact(fd->get(), bytes.data(), bytes.size(), 0)) return std::nullopt;
  auto header = decode_header(bytes, ~uint64_t{0});
  if (!header) return std::nullopt;
  return *header;
}

Result<std::string> find_parent(const std::string& child_path, const Header& child) {
  const std::string folder = std::filesystem::absolute(child_path).parent_path().string();
  std::error_code error;
  const auto self = std::filesystem::canonical(child_path, error);
  std::vector<std::string> matches;
  for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
    if (!entry.is_regular_file(error)) continue;
    if (std::filesystem::canonical(entry.path(), error) == self) continue;
    auto header = peek_header(entry.path().string());
    if (header && header->create_uuid == child.linkage_uuid) {
      matches.push_back(entry.path().string());
    }
  }
  if (error) return make_error("{}: cannot list the folder: {}", folder, error.message());
  if (matches.empty()) {
    return make_error(
        "this differencing image's parent (UUID {}) is not among the VDI images "
        "of {}: put the parent next to it, or name it explicitly",
        format_uuid(child.linkage_uuid), folder);
  }
  if (matches.size() > 1) {
    std::sort(matches.begin(), matches.end());
    return make_error("several VDI images of {} have the parent's UUID {}: {} and {}", folder,
                      format_uuid(child.linkage_uuid), matches[0], matches[1]);
  }
  return matches[0];
}

Result<std::unique_ptr<BlockImage>> open_parent(const std::string& child_path, const Header& child,
                                                const OpenOptions& options) {
  std::string path = options.backing_path;
  if (path.empty()) {
    CELLA_TRY_ASSIGN(found, find_parent(child_path, child));
    path = found;
  } else {
    path = resolve_backing_path(child_path, path);
  }
  OpenOptions parent_options = options;
  parent_options.read_only = true;
  parent_options.format = "vdi";
  parent_options.backing_path.clear();
  auto parent = open_image(path, parent_options);
  if (!parent) return parent.error().context("parent");
  const auto& header = static_cast<const VdiImage&>(**parent).header();
  if (header.create_uuid != child.linkage_uuid) {
    return make_error("{} is not this image's parent: its UUID is {}, the child links to {}", path,
                      format_uuid(header.create_uuid), format_uuid(child.linkage_uuid));
  }
  if (header.modify_uuid != child.parent_modify_uuid && !is_null(child.parent_modify_uuid)) {
    log::warn(
        "{}: the parent {} was modified after this differencing image was made "
        "(modification UUID {}, expected {})",
        child_path, path, format_uuid(header.modify_uuid), format_uuid(child.parent_modify_uuid));
  }
  return parent;
}

}  // namespace

int probe_vdi(std::span<const uint8_t> head, uint64_t) {
  if (head.size() < kPreHeaderSize) return 0;
  return load_le<uint32_t>(head.data() + 0x40) == kSignature ? 100 : 0;
}

Result<std::unique_ptr<VdiImage>> VdiImage::open(HostFile file, const OpenOptions& options) {
  CELLA_TRY_ASSIGN(file_size, file.size());
  std::vector<uint8_t> bytes(kHeaderEnd, 0);
  CELLA_TRY(file.read_zero_filled(0, bytes));
  CELLA_TRY_ASSIGN(header, decode_header(bytes, file_size));
  CELLA_TRY_ASSIGN(map, BlockMap::load(file, header));
  const std::string path = file.path();
  std::unique_ptr<VdiImage> image(
      new VdiImage(std::move(file), std::move(header), std::move(map), options.read_only));
  CELLA_TRY(image->validate_map());
  if (image->header_.type == ImageType::kDiff && options.open_backing) {
    CELLA_TRY_ASSIGN(parent, open_parent(path, image->header_, options));
    image->backing_ = std::move(parent);
  }
  return image;
}

Result<std::unique_ptr<BlockImage>> open_vdi(HostFile file, const OpenOptions& options) {
  CELLA_TRY_ASSIGN(image, VdiImage::open(std::move(file), options));
  return std::unique_ptr<BlockImage>(std::move(image));
}

}  // namespace cella::block::vdi
