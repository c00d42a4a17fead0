// A temporary folder removed (with its files) at the end of a test.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace cella::testing {

class TempDir {
 public:
  // In the system temporary folder, or under `base` (e.g. /dev/shm, a memory file system where
  // fdatasync costs nothing) when that folder exists.
  explicit TempDir(const std::string& base = "") {
    std::error_code ec;
    const std::filesystem::path root = !base.empty() && std::filesystem::is_directory(base, ec)
                                           ? std::filesystem::path(base)
                                           : std::filesystem::temp_directory_path();
    std::string pattern = (root / "cella-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : std::string();
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace cella::testing
