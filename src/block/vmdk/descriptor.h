// The VMDK text descriptor (VMware Virtual Disk Format 1.1, "The Descriptor File"): the header
// keys (version, CID, parentCID, createType, parentFileNameHint), the extent descriptions and
// the disk database (ddb.*). Parsing is strict and bounded: the text comes from a file that may
// be hostile. Rewrites replace single lines, so keys Cella does not interpret survive.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace cella::block::vmdk {

// "Extent Descriptions": access, size in sectors, type, file name, offset.
enum class ExtentAccess : uint8_t { kReadWrite, kReadOnly, kNoAccess };
enum class ExtentType : uint8_t { kSparse, kFlat, kZero, kVmfs, kVmfsSparse, kVmfsRdm, kVmfsRaw };

struct ExtentLine {
  ExtentAccess access = ExtentAccess::kReadWrite;
  uint64_t sectors = 0;
  ExtentType type = ExtentType::kFlat;
  std::string file_name;        // empty for ZERO extents
  uint64_t offset_sectors = 0;  // FLAT/VMFS: where the extent's data starts in its file
};

// "Header": parentCID of a disk without a parent.
inline constexpr uint32_t kNoParentCid = 0xffffffff;
inline constexpr uint64_t kSectorSize = 512;
// Bounds that keep hostile descriptors from costing memory or time.
inline constexpr size_t kMaxDescriptorBytes = 1 << 20;
inline constexpr size_t kMaxExtents = 4096;
inline constexpr uint64_t kMaxDiskSectors = uint64_t{1} << 41;  // 1 PiB

struct Descriptor {
  uint32_t version = 1;
  uint32_t cid = 0;
  uint32_t parent_cid = kNoParentCid;
  std::string create_type;
  std::string parent_file_name_hint;
  std::vector<ExtentLine> extents;
  // Every key = value line in file order (header keys and ddb.* keys), values unquoted.
  std::vector<std::pair<std::string, std::string>> keys;

  std::optional<std::string> value(std::string_view key) const;
  uint64_t total_sectors() const;
  bool has_parent() const { return parent_cid != kNoParentCid; }
};

Result<Descriptor> parse_descriptor(std::string_view text);

// The fields of a descriptor Cella writes for a new image ("Header", "Extent Descriptions",
// "The Disk Database"), in the layout VMware and qemu-img write.
struct NewDescriptor {
  uint32_t cid = 0;
  uint32_t parent_cid = kNoParentCid;
  std::string create_type;
  std::string parent_file_name_hint;
  std::vector<ExtentLine> extents;
  std::vector<std::pair<std::string, std::string>> ddb;  // without the "ddb." prefix
};
std::string format_descriptor(const NewDescriptor& descriptor);

// The text with the line of `key` replaced by `key=value` (added after "version=" if the key is
// absent). The rest of the text is kept byte for byte.
std::string replace_key(std::string_view text, std::string_view key, std::string_view value);
// The text without the (uncommented) lines of `key`.
std::string remove_key(std::string_view text, std::string_view key);

std::string_view access_name(ExtentAccess access);
std::string_view extent_type_name(ExtentType type);
std::string format_cid(uint32_t cid);
// "Header": a fresh random CID, different from `old` and from the no-parent marker.
uint32_t new_cid(uint32_t old);

}  // namespace cella::block::vmdk
