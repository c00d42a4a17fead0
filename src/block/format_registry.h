// The table of image formats: how each is recognized, opened and created. `open_image` probes
// a file against every format and opens its backing chain; `cella img` lists formats from here.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "block/block_image.h"
#include "block/host_file.h"

namespace cella::block {

struct OpenOptions {
  bool read_only = false;
  std::string format;        // empty: probe
  bool open_backing = true;  // false: open this image alone (qemu-img -U / rebase -u uses)
  int max_chain_depth = 64;  // a longer chain, or a loop, is an error naming the files
  // Canonical paths of the images that opened this one (its children), for loop detection.
  std::vector<std::string> opened_by;
};

// `-o key=value` options of `cella img create`, plus the common ones.
struct CreateOptions {
  std::string path;
  uint64_t size = 0;
  std::string backing_file;    // differencing: parent image (relative to the new image's folder)
  std::string backing_format;  // empty: probe
  std::map<std::string, std::string> options;  // format-specific (cluster_size, compat, ...)
};

struct FormatDriver {
  const char* name;
  // Confidence (0 none .. 100 certain) that the file's first bytes are this format.
  int (*probe)(std::span<const uint8_t> head, uint64_t file_size);
  Result<std::unique_ptr<BlockImage>> (*open)(HostFile file, const OpenOptions& options);
  Result<void> (*create)(const CreateOptions& options);
  // Names of the -o options create accepts, for help and for rejecting unknown keys.
  std::vector<std::string> create_option_names;
};

const std::vector<FormatDriver>& format_drivers();
const FormatDriver* find_format(std::string_view name);

// Opens an image, probing its format unless options.format is set, and its backing chain.
Result<std::unique_ptr<BlockImage>> open_image(const std::string& path, const OpenOptions& options);
Result<void> create_image(std::string_view format, const CreateOptions& options);

}  // namespace cella::block
