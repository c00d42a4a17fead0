#include "block/format_registry.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>

#include "block/qcow2/qcow2_image.h"
#include "block/raw/raw_driver.h"
#include "block/vdi/vdi.h"
#include "block/vhd/vhd_driver.h"
#include "block/vhdx/vhdx_driver.h"
#include "block/vmdk/vmdk.h"

namespace cella::block {

// One entry per format; each format's folder defines its driver. Probing order does not
// matter: the highest confidence wins, and raw (confidence 1) is the fallback.
const std::vector<FormatDriver>& format_drivers() {
  static const std::vector<FormatDriver> drivers = {
      raw_format_driver(), qcow2::driver(),     vhd::driver(),
      vhdx::driver(),      vmdk::vmdk_format(), vdi::vdi_format(),
  };
  return drivers;
}

const FormatDriver* find_format(std::string_view name) {
  for (const FormatDriver& driver : format_drivers()) {
    if (name == driver.name) return &driver;
  }
  return nullptr;
}

std::string format_names() {
  std::string names;
  for (const FormatDriver& driver : format_drivers()) {
    if (!names.empty()) names += ", ";
    names += driver.name;
  }
  return names;
}

const FormatDriver* probe_format(std::span<const uint8_t> head, uint64_t file_size) {
  const FormatDriver* best = nullptr;
  int best_score = 0;
  for (const FormatDriver& candidate : format_drivers()) {
    const int score = candidate.probe(head, file_size);
    if (score > best_score) {
      best_score = score;
      best = &candidate;
    }
  }
  return best;
}

namespace {

Result<std::string> canonical_path(const std::string& path) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) return errno_error(path);
  return std::string(resolved);
}

Result<const FormatDriver*> probe_file(const HostFile& file) {
  CELLA_TRY_ASSIGN(file_size, file.size());
  std::vector<uint8_t> head(static_cast<size_t>(std::min<uint64_t>(file_size, kProbeBytes)));
  CELLA_TRY(file.read(0, head));
  const FormatDriver* driver = probe_format(head, file_size);
  if (driver == nullptr) return make_error("{}: image format not recognized", file.path());
  return driver;
}

Access access_for(bool read_only, bool force_share) {
  if (!read_only) return Access::kReadWrite;
  return force_share ? Access::kReadOnlyUnlocked : Access::kReadOnly;
}

}  // namespace

Result<std::string> detect_format(const std::string& path) {
  CELLA_TRY_ASSIGN(file, HostFile::open(path, Access::kReadOnly));
  CELLA_TRY_ASSIGN(driver, probe_file(file));
  return std::string(driver->name);
}

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
  bool read_only = options.read_only;
  std::string format = options.format;
  if (!options.opened_by.empty()) {
    // A backing image: read-only unless commit asked for the immediate one to be writable.
    const bool immediate = options.opened_by.size() == 1;
    read_only = !(immediate && options.backing_writable);
    if (immediate && !options.backing_format.empty()) format = options.backing_format;
  } else if (options.force_share && !read_only) {
    return make_error("{}: force-share (-U) needs the image to be opened read-only", path);
  }
  CELLA_TRY_ASSIGN(file, HostFile::open(path, access_for(read_only, options.force_share)));
  const FormatDriver* driver = nullptr;
  if (!format.empty()) {
    driver = find_format(format);
    if (driver == nullptr) {
      return make_error("{}: unknown image format '{}' (known: {})", path, format, format_names());
    }
  } else {
    CELLA_TRY_ASSIGN(probed, probe_file(file));
    driver = probed;
  }
  OpenOptions inner = options;
  inner.read_only = read_only;
  inner.format.clear();
  inner.format_probed = format.empty();
  inner.opened_by.push_back(canonical);
  auto image = driver->open(std::move(file), inner);
  if (!image) return image.error().context(path);
  return image;
}

Result<void> create_image(std::string_view format, const CreateOptions& options) {
  const FormatDriver* driver = find_format(format);
  if (driver == nullptr) {
    return make_error("unknown image format '{}' (known: {})", format, format_names());
  }
  for (const auto& entry : options.options) {
    const std::string& key = entry.first;
    const auto& known = driver->create_option_names;
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return make_error("{} does not support the option '{}'", format, key);
    }
  }
  return driver->create(options);
}

std::string resolve_backing_path(const std::string& image_path, const std::string& backing) {
  if (backing.empty() || backing.front() == '/') return backing;
  const size_t slash = image_path.rfind('/');
  if (slash == std::string::npos) return backing;
  return image_path.substr(0, slash + 1) + backing;
}

Result<std::unique_ptr<BlockImage>> open_backing_image(const std::string& image_path,
                                                       const std::string& recorded_path,
                                                       const std::string& recorded_format,
                                                       const OpenOptions& options) {
  if (!options.open_backing || recorded_path.empty()) return std::unique_ptr<BlockImage>();
  OpenOptions backing_options = options;
  backing_options.format = recorded_format;
  auto backing = open_image(resolve_backing_path(image_path, recorded_path), backing_options);
  if (!backing) return backing.error().context(fmt::format("backing file of {}", image_path));
  return backing;
}

}  // namespace cella::block
