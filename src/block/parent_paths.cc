#include "block/parent_paths.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "block/format_registry.h"

namespace cella::block {

namespace fs = std::filesystem;

std::string windows_to_posix(std::string path) {
  std::replace(path.begin(), path.end(), '\\', '/');
  return path;
}

Result<std::string> find_parent(const std::vector<ParentCandidate>& candidates,
                                const std::string& child_path) {
  if (candidates.empty()) {
    return make_error("{}: differencing image names no parent (no usable parent locator)",
                      child_path);
  }
  std::string tried;
  for (const ParentCandidate& candidate : candidates) {
    struct stat st {};
    // Regular files only: a locator naming a FIFO or a device must not hang or read it.
    if (::stat(candidate.path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return candidate.path;
    tried +=
        fmt::format("{}'{}' ({})", tried.empty() ? "" : ", ", candidate.path, candidate.source);
  }
  return make_error("{}: parent image not found; tried {}", child_path, tried);
}

std::string windows_relative_path(const std::string& parent_absolute,
                                  const std::string& child_folder) {
  std::string relative = fs::path(parent_absolute).lexically_relative(child_folder).string();
  if (relative.empty()) relative = parent_absolute;
  std::replace(relative.begin(), relative.end(), '/', '\\');
  if (relative.compare(0, 2, "..") != 0 && relative[0] != '\\') relative = ".\\" + relative;
  return relative;
}

std::string resolve_against(const std::string& path, const std::string& child_path) {
  return fs::path(resolve_backing_path(child_path, path)).lexically_normal().string();
}

std::string backing_file_path(const std::string& image_path, const std::string& backing_file) {
  return fs::absolute(resolve_backing_path(image_path, backing_file)).lexically_normal().string();
}

}  // namespace cella::block
