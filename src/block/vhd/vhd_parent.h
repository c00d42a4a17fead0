// Differencing VHDs name their parent with locators ([VHD] "Dynamic Disk Header Format",
// Parent Locator Entries, and "Implementing a Differencing Hard Disk"): this file turns them
// into candidate paths, and builds them for new differencing disks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "block/host_file.h"
#include "block/parent_paths.h"
#include "block/vhd/vhd_format.h"

namespace cella::block::vhd {

// Locator data is a path: anything longer is not a locator Cella will read.
inline constexpr uint32_t kMaxLocatorBytes = 64 * 1024;

// Candidate parent paths in order of preference: the relative locators (W2ru, Wi2r), the
// absolute ones (W2ku, Wi2k, MacX), then the Parent Unicode Name in the child's folder.
// Windows separators become '/', drive-letter paths are kept (they will not exist on this
// host and are reported as tried). Errors name a locator that points outside the file.
Result<std::vector<ParentCandidate>> parent_candidates(const DynamicHeader& header,
                                                       const HostFile& child);

// A locator to write into a new differencing disk: its header entry (offset filled by the
// caller) and its data.
struct LocatorData {
  PlatformCode code;
  std::vector<uint8_t> bytes;
};

// W2ru (".\parent.vhd"-style path relative to the child's folder, UTF-16LE) and MacX (a file://
// URL of the parent's absolute path, UTF-8), for a parent at `parent_absolute` and a child in
// folder `child_folder` (both absolute, normalized).
Result<std::vector<LocatorData>> make_locators(const std::string& parent_absolute,
                                               const std::string& child_folder);

// The Parent Unicode Name field: the parent's file name, UTF-16 big-endian.
Result<std::array<uint8_t, kParentNameBytes>> make_parent_name(const std::string& parent_absolute);

}  // namespace cella::block::vhd
