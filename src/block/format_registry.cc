#include "block/format_registry.h"

#include <algorithm>
#include <climits>
#include <cstdlib>

#include "block/vhd/vhd_driver.h"
#include "block/vhdx/vhdx_driver.h"

namespace cella::block {

// One entry per format; each format's file defines its driver. Probing order does not
// matter: the highest confidence wins, and raw (confidence 1) is the fallback.
const std::vector<FormatDriver>& format_drivers() {
  static const std::vector<FormatDriver> drivers = {
      vhd::driver(),
      vhdx::driver(),
  };
  return drivers;
}

const FormatDriver* find_format(std::string_view name) {
  for (const FormatDriver& driver : format_drivers()) {
    if (name == driver.name) return &driver;
  }
  return nullptr;
}

namespace {

Result<std::string> canonical_path(const std::string& path) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) return errno_error(path);
  return std::string(resolved);
}

}  // namespace

Result<std::unique_ptr<BlockImage>> open_image(const std::string& path,
                                               const OpenOptions& options) {
  CELLA_TRY_ASSIGN(canonical, canonical_path(path));
  if (std::find(options.opened_by.begin(), options.opened_by.end(), canonical) !=
      options.opened_by.end()) {
    return make_error("{}: backing chain loops back to this image", path);
  }
  if (static_cast<int>(options.opened_by.size()) >= options.max_chain_depth) {
    return make_error("{}: backing chain is deeper than {} images", path, options.max_chain_depth);
  }
  CELLA_TRY_ASSIGN(
      file, HostFile::open(path, options.read_only ? Access::kReadOnly : Access::kReadWrite));
  const FormatDriver* driver = nullptr;
  if (!options.format.empty()) {
    driver = find_format(options.format);
    if (driver == nullptr) return make_error("unknown image format '{}'", options.format);
  } else {
    CELLA_TRY_ASSIGN(file_size, file.size());
    std::vector<uint8_t> head(static_cast<size_t>(std::min<uint64_t>(file_size, 65536)));
    CELLA_TRY(file.read(0, head));
    int best = 0;
    for (const FormatDriver& candidate : format_drivers()) {
      const int score = candidate.probe(head, file_size);
      if (score > best) {
        best = score;
        driver = &candidate;
      }
    }
    if (driver == nullptr) return make_error("{}: image format not recognized", path);
  }
  OpenOptions inner = options;
  inner.format.clear();
  inner.opened_by.push_back(canonical);
  auto image = driver->open(std::move(file), inner);
  if (!image) return image.error().context(path);
  return image;
}

Result<void> create_image(std::string_view format, const CreateOptions& options) {
  const FormatDriver* driver = find_format(format);
  if (driver == nullptr) return make_error("unknown image format '{}'", format);
  for (const auto& [key, value] : options.options) {
    if (std::find(driver->create_option_names.begin(), driver->create_option_names.end(), key) ==
        driver->create_option_names.end()) {
      return make_error("{} does not support the option '{}'", format, key);
    }
  }
  return driver->create(options);
}

}  // namespace cella::block
