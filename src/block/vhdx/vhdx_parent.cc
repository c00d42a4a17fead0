// The parent of a differencing VHDX ([MS-VHDX] 2.6.2.6): found through the parent locator's
// paths, and identified by parent_linkage, the parent's DataWriteGuid when the child was made.
#include <filesystem>

#include "base/log.h"
#include "block/parent_paths.h"
#include "block/vhdx/vhdx_image.h"

namespace cella::block::vhdx {

namespace {

// [MS-VHDX] 2.6.2.6.3: the path entries, in the order Cella tries them.
constexpr struct {
  const char* key;
  bool relative;
} kPathKeys[] = {{"relative_path", true}, {"absolute_win32_path", false}, {"volume_path", false}};

std::vector<ParentCandidate> candidates(const Metadata& metadata, const std::string& child) {
  std::vector<ParentCandidate> found;
  std::string file_name;
  for (const auto& key : kPathKeys) {
    auto value = locator_value(metadata, key.key);
    if (!value || value->empty()) continue;
    std::string path = windows_to_posix(*value);
    if (file_name.empty()) file_name = std::filesystem::path(path).filename().string();
    // Drive-letter and volume paths cannot name a file on this host; they are still listed
    // so that an error shows what the image asked for.
    found.push_back({resolve_against(path, child), key.key});
  }
  // The file name next to the child, where copies of a chain usually travel together.
  if (!file_name.empty()) found.push_back({resolve_against(file_name, child), "parent file name"});
  return found;
}

}  // namespace

Result<void> VhdxImage::open_parent(const OpenOptions& options) {
  const std::vector<ParentCandidate> found = candidates(metadata_, file_.path());
  if (!options.open_backing) {
    if (!found.empty()) parent_path_ = found.front().path;
    return ok();
  }
  auto linkage_text = locator_value(metadata_, "parent_linkage");
  if (!linkage_text) return make_error("the parent locator has no parent_linkage entry");
  auto linkage = Guid::parse(*linkage_text);
  if (!linkage) return make_error("parent_linkage '{}' is not a GUID", *linkage_text);
  CELLA_TRY_ASSIGN(parent_path, find_parent(found, file_.path()));
  parent_path_ = parent_path;
  // [MS-VHDX] 2.6.2.6.1: the VHDX locator type names a VHDX parent.
  CELLA_TRY_ASSIGN(parent, open_backing_image(file_.path(), std::filesystem::absolute(parent_path),
                                              "vhdx", options));
  if (parent->format_name() != "vhdx") {
    return make_error("parent {} is a {} image, not a VHDX", parent_path, parent->format_name());
  }
  const Guid data_write = static_cast<const VhdxImage*>(parent.get())->header().data_write_guid;
  std::optional<Guid> linkage2;
  if (auto text = locator_value(metadata_, "parent_linkage2")) linkage2 = Guid::parse(*text);
  if (data_write != *linkage && (!linkage2 || data_write != *linkage2)) {
    return make_error(
        "parent {} has DataWriteGuid {}, but this differencing image was made from "
        "a parent with {} (parent_linkage): the parent changed since",
        parent_path, data_write.to_string(), linkage->to_string());
  }
  parent_ = std::move(parent);
  return ok();
}

std::string VhdxImage::backing_file() const {
  return parent_path_.empty() ? "" : std::filesystem::absolute(parent_path_).string();
}

Result<void> VhdxImage::set_backing(const std::string& /*path*/, const std::string& /*format*/) {
  return make_error("{}: changing the parent of a differencing VHDX (rebase) is not supported",
                    path());
}

}  // namespace cella::block::vhdx
