#include "block/chain_helpers.h"

#include <algorithm>
#include <cstring>

namespace cella::block {

Result<void> read_from_backing(BlockImage* backing, uint64_t offset, std::span<uint8_t> out) {
  size_t from_parent = 0;
  if (backing != nullptr && offset < backing->size()) {
    from_parent = static_cast<size_t>(std::min<uint64_t>(out.size(), backing->size() - offset));
    CELLA_TRY(backing->read(offset, out.first(from_parent)));
  }
  std::memset(out.data() + from_parent, 0, out.size() - from_parent);
  return ok();
}

Result<void> map_from_backing(BlockImage* backing, uint64_t offset, uint64_t length,
                              std::vector<Extent>& out) {
  uint64_t from_parent = 0;
  if (backing != nullptr && offset < backing->size()) {
    from_parent = std::min(length, backing->size() - offset);
    CELLA_TRY_ASSIGN(below, backing->map(offset, from_parent));
    for (Extent& extent : below) {
      ++extent.depth;
      append_merged(out, std::move(extent));
    }
  }
  if (from_parent < length) {
    append_merged(out,
                  Extent{offset + from_parent, length - from_parent, ExtentKind::kZero, 0, -1, {}});
  }
  return ok();
}

std::string folder_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string path_beside(const std::string& image_path, const std::string& name) {
  if (!name.empty() && name.front() == '/') return name;
  return folder_of(image_path) + "/" + name;
}

void append_merged(std::vector<Extent>& out, Extent extent) {
  if (!out.empty()) {
    Extent& last = out.back();
    const bool host_continues =
        last.host_offset < 0
            ? extent.host_offset < 0
            : extent.host_offset == last.host_offset + static_cast<int64_t>(last.length);
    if (last.kind == extent.kind && last.depth == extent.depth && host_continues &&
        last.host_file == extent.host_file && last.offset + last.length == extent.offset) {
      last.length += extent.length;
      return;
    }
  }
  out.push_back(std::move(extent));
}

}  // namespace cella::block
