// Finding the parent of a differencing image from the paths its locators record (VHD parent
// locators, VHDX parent locator entries): Windows paths made usable on this host, relative
// paths resolved against the child's folder, and the first that exists chosen.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace cella::block {

struct ParentCandidate {
  std::string path;    // host path
  std::string source;  // where it came from, for messages ("W2ru locator", "relative_path")
};

// '\' separators become '/'.
std::string windows_to_posix(std::string path);
// The first candidate that is a regular file, or an error naming every candidate tried.
Result<std::string> find_parent(const std::vector<ParentCandidate>& candidates,
                                const std::string& child_path);
// The Windows-style relative path from `child_folder` to `parent_absolute` that VHD and VHDX
// writers record: ".\parent.vhd", "..\base\parent.vhd".
std::string windows_relative_path(const std::string& parent_absolute,
                                  const std::string& child_folder);
// `path` when absolute, else `path` in the folder of `child_path` (resolve_backing_path() in
// format_registry.h), without "." and ".." steps.
std::string resolve_against(const std::string& path, const std::string& child_path);
// The absolute path of the parent named by `backing_file` (relative to the new image's folder,
// as resolve_backing_path() in format_registry.h resolves it).
std::string backing_file_path(const std::string& image_path, const std::string& backing_file);

}  // namespace cella::block
