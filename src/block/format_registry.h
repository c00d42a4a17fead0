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
  // Read-only without taking locks (`-U`/`--force-share`), for inspecting an image in use.
  bool force_share = false;
  std::string format;        // empty: probe
  bool open_backing = true;  // false: open this image alone (qemu-img -U / rebase -u uses)
  // Backing images are always opened read-only, except the immediate backing image when this
  // is set (`commit` writes into it).
  bool backing_writable = false;
  // The format of the immediate backing image, overriding the one the image records (or the
  // probe when it records none).
  std::string backing_format;
  int max_chain_depth = 64;  // a longer chain, or a loop, is an error naming the files
  // Canonical paths of the images that opened this one (its children), for loop detection.
  // Non-empty means "this is a backing image".
  std::vector<std::string> opened_by;
  // Set by open_image for the driver: the format was probed rather than named. Raw then
  // refuses writes that would make the file probe as another format (a guest writing a qcow2
  // header into its raw disk must not gain access to host files through a backing name).
  bool format_probed = false;
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
  // The -o options create accepts, for rejecting unknown keys and for `-o help`.
  std::vector<std::string> create_option_names;
  // Optional: a line of help per option name, for `-o help`.
  std::map<std::string, std::string> create_option_help = {};
};

// How many leading bytes of a file probing looks at.
inline constexpr size_t kProbeBytes = 65536;

const std::vector<FormatDriver>& format_drivers();
const FormatDriver* find_format(std::string_view name);
// "raw, qcow2, ..." for messages and help.
std::string format_names();
// The format whose probe is most confident about these first bytes (the first in the table
// on a tie), or nullptr when none recognizes them.
const FormatDriver* probe_format(std::span<const uint8_t> head, uint64_t file_size);
// Probes a file's format without opening it as an image.
Result<std::string> detect_format(const std::string& path);

// Opens an image, probing its format unless options.format is set, and its backing chain.
Result<std::unique_ptr<BlockImage>> open_image(const std::string& path, const OpenOptions& options);
Result<void> create_image(std::string_view format, const CreateOptions& options);

// The host path of a backing file recorded in an image: relative names are relative to the
// folder of the image that records them.
std::string resolve_backing_path(const std::string& image_path, const std::string& backing);
// For drivers: opens the backing image recorded in a differencing image (`image_path`), with
// the options the driver was opened with. Returns nullptr when options.open_backing is false.
// Chain loops, depth, read-only policy and the forced backing format are handled here.
Result<std::unique_ptr<BlockImage>> open_backing_image(const std::string& image_path,
                                                       const std::string& recorded_path,
                                                       const std::string& recorded_format,
                                                       const OpenOptions& options);

}  // namespace cella::block
