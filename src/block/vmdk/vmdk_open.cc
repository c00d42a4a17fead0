// Recognizing and opening VMDK disks: a sparse extent file with its embedded descriptor
// (monolithicSparse, streamOptimized), or a descriptor file naming the extent files.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdlib>

#include "base/bits.h"
#include "block/vmdk/simple_extents.h"
#include "block/vmdk/sparse_extent.h"
#include "block/vmdk/stream_extent.h"
#include "block/vmdk/vmdk.h"
#include "block/vmdk/vmdk_image.h"

namespace cella::block::vmdk {

namespace {

// "Header", createType: the disk types Cella opens, and why it refuses the others.
struct CreateType {
  std::string_view name;
  const char* refusal;  // nullptr: supported
};
constexpr const char* kNoDevices =
    "raw device disks are not supported: Cella does not open host devices named in a descriptor";
constexpr std::array<CreateType, 15> kCreateTypes = {{
    {"monolithicSparse", nullptr},
    {"monolithicFlat", nullptr},
    {"twoGbMaxExtentSparse", nullptr},
    {"twoGbMaxExtentFlat", nullptr},
    {"streamOptimized", nullptr},
    {"vmfs", nullptr},
    {"vmfsThin", nullptr},
    {"vmfsPreallocated", nullptr},
    {"vmfsEagerZeroedThick", nullptr},
    {"custom", nullptr},
    {"vmfsSparse", "ESX Server sparse (COWD) disks are not supported"},
    {"seSparse", "ESXi space-efficient sparse (SESparse) disks are not supported"},
    {"fullDevice", kNoDevices},
    {"partitionedDevice", kNoDevices},
    {"vmfsRawDeviceMap", kNoDevices},
}};

Result<void> check_create_type(std::string_view name) {
  if (name == "vmfsRaw" || name == "vmfsPassthroughRawDeviceMap") return make_error(kNoDevices);
  for (const CreateType& type : kCreateTypes) {
    if (type.name != name) continue;
    if (type.refusal != nullptr) return make_error("createType \"{}\": {}", name, type.refusal);
    return ok();
  }
  return make_error("unknown createType \"{}\"", name);
}

// "Extent Descriptions": file names are relative to the descriptor's folder. Names that leave
// that folder (absolute, or through "..") are refused: a descriptor must not reach arbitrary
// host files.
Result<std::string> extent_path(const std::string& descriptor_path, const std::string& name) {
  if (name.front() == '/') {
    return make_error(
        "extent file name \"{}\" is absolute; extents must lie in the descriptor's "
        "folder",
        name);
  }
  size_t start = 0;
  while (start <= name.size()) {
    const size_t slash = std::min(name.find('/', start), name.size());
    if (name.compare(start, slash - start, "..") == 0 && slash - start == 2) {
      return make_error("extent file name \"{}\" leaves the descriptor's folder", name);
    }
    start = slash + 1;
  }
  return resolve_backing_path(descriptor_path, name);
}

Result<std::string> canonical(const std::string& path) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) return errno_error(path);
  return std::string(resolved);
}

Result<HostFile> open_regular(const std::string& path, bool writable) {
  CELLA_TRY_ASSIGN(file, HostFile::open(path, writable ? Access::kReadWrite : Access::kReadOnly));
  struct stat st {};
  if (::fstat(file.fd(), &st) != 0) return errno_error(path);
  if (!S_ISREG(st.st_mode)) return make_error("{}: an extent must be a regular file", path);
  return file;
}

// A SPARSE extent file: written through the stream writer when it is stream-optimized.
Result<std::unique_ptr<DiskExtent>> open_sparse(HostFile file) {
  std::vector<uint8_t> sector(kSparseHeaderSize);
  CELLA_TRY(file.read_zero_filled(0, sector));
  CELLA_TRY_ASSIGN(header, decode_sparse_header(sector));
  if (header.compressed() && file.writable()) {
    CELLA_TRY_ASSIGN(stream, StreamExtent::open(std::move(file)));
    return std::unique_ptr<DiskExtent>(std::move(stream));
  }
  CELLA_TRY_ASSIGN(sparse, SparseExtent::open(std::move(file)));
  return std::unique_ptr<DiskExtent>(std::move(sparse));
}

Result<void> set_extent_size(DiskExtent& extent, uint64_t bytes) {
  if (auto* sparse = dynamic_cast<SparseExtent*>(&extent)) return sparse->set_size(bytes);
  if (auto* stream = dynamic_cast<StreamExtent*>(&extent)) return stream->set_size(bytes);
  return ok();
}

Result<std::unique_ptr<DiskExtent>> open_extent(const std::string& descriptor_path,
                                                const ExtentLine& line, bool writable,
                                                std::vector<std::string>& seen) {
  switch (line.type) {
    case ExtentType::kZero:
      return std::unique_ptr<DiskExtent>(new ZeroExtent(line.sectors * 512));
    case ExtentType::kVmfsSparse:
      return make_error("VMFSSPARSE extents (ESX Server sparse, COWD) are not supported");
    case ExtentType::kVmfsRdm:
    case ExtentType::kVmfsRaw:
      return make_error(kNoDevices);
    case ExtentType::kSparse:
    case ExtentType::kFlat:
    case ExtentType::kVmfs:
      break;
  }
  CELLA_TRY_ASSIGN(path, extent_path(descriptor_path, line.file_name));
  CELLA_TRY_ASSIGN(real, canonical(path));
  if (std::find(seen.begin(), seen.end(), real) != seen.end()) {
    return make_error("extent file \"{}\" is listed twice (or is the descriptor itself)",
                      line.file_name);
  }
  seen.push_back(real);
  CELLA_TRY_ASSIGN(file, open_regular(path, writable && line.access == ExtentAccess::kReadWrite));
  if (line.type != ExtentType::kSparse) {
    CELLA_TRY_ASSIGN(
        flat, FlatExtent::open(std::move(file), line.offset_sectors * 512, line.sectors * 512));
    return std::unique_ptr<DiskExtent>(std::move(flat));
  }
  CELLA_TRY_ASSIGN(sparse, open_sparse(std::move(file)));
  CELLA_TRY(set_extent_size(*sparse, line.sectors * 512));
  return sparse;
}

// "parentFileNameHint": relative to the child's folder. A hint written on another host (an
// absolute Windows path, say) falls back to the same file name next to the child. An explicit
// parent (OpenOptions::backing_path) replaces the hint.
Result<std::unique_ptr<BlockImage>> open_parent(const std::string& child_path,
                                                const Descriptor& descriptor,
                                                const OpenOptions& options) {
  const std::string& hint = descriptor.parent_file_name_hint;
  if (hint.empty()) {
    return make_error("{}: a delta disk (parentCID {}) without a parentFileNameHint", child_path,
                      format_cid(descriptor.parent_cid));
  }
  std::string path = resolve_backing_path(child_path, hint);
  if (!options.backing_path.empty()) {
    path = resolve_backing_path(child_path, options.backing_path);
  } else if (::access(path.c_str(), F_OK) != 0) {
    const size_t cut = hint.find_last_of("/\\");
    if (cut != std::string::npos) path = resolve_backing_path(child_path, hint.substr(cut + 1));
  }
  OpenOptions parent_options = options;
  parent_options.read_only = true;
  parent_options.format = "vmdk";
  parent_options.backing_path.clear();
  auto parent = open_image(path, parent_options);
  if (!parent) return parent.error().context(fmt::format("parent \"{}\"", hint));
  const auto* vmdk_parent = dynamic_cast<const VmdkImage*>(parent->get());
  // "Header": a delta disk is valid only over the parent content it was created from.
  if (vmdk_parent != nullptr && vmdk_parent->cid() != descriptor.parent_cid) {
    return make_error(
        "{}: the parent {} has CID {} but this delta disk expects parentCID {}: the "
        "parent was modified after the delta disk was created",
        child_path, path, format_cid(vmdk_parent->cid()), format_cid(descriptor.parent_cid));
  }
  return parent;
}

Result<std::string> read_text(const HostFile& file, uint64_t offset, uint64_t length) {
  std::string text(length, '\0');
  CELLA_TRY(
      file.read(offset, std::span<uint8_t>(reinterpret_cast<uint8_t*>(text.data()), text.size())));
  return text;
}

Result<VmdkImage::Parts> open_monolithic(HostFile file) {
  VmdkImage::Parts parts;
  std::vector<uint8_t> sector(kSparseHeaderSize);
  CELLA_TRY(file.read_zero_filled(0, sector));
  CELLA_TRY_ASSIGN(header, decode_sparse_header(sector));
  CELLA_TRY_ASSIGN(file_size, file.size());
  if (header.descriptor_size != 0) {
    // "Hosted Sparse Extent Header": descriptorOffset/descriptorSize locate the embedded
    // descriptor.
    if (header.descriptor_offset == 0 || header.descriptor_offset > file_size / 512 ||
        (header.descriptor_offset + header.descriptor_size) * 512 > file_size) {
      return make_error("the embedded descriptor (sector {}, {} sectors) is outside the file",
                        header.descriptor_offset, header.descriptor_size);
    }
    CELLA_TRY_ASSIGN(text,
                     read_text(file, header.descriptor_offset * 512, header.descriptor_size * 512));
    auto descriptor = parse_descriptor(text);
    if (!descriptor) return descriptor.error().context("embedded descriptor");
    parts.descriptor = std::move(*descriptor);
    parts.descriptor_text = text.substr(0, text.find('\0'));
  }
  CELLA_TRY_ASSIGN(extent, open_sparse(std::move(file)));
  if (header.descriptor_size != 0) {
    parts.embedded = DescriptorPlace{extent->host_file(), header.descriptor_offset * 512,
                                     header.descriptor_size * 512};
  }
  parts.extents.push_back(ExtentSlot{0, ExtentAccess::kReadWrite, std::move(extent)});
  return parts;
}

Result<VmdkImage::Parts> open_descriptor_file(HostFile file, bool writable) {
  VmdkImage::Parts parts;
  CELLA_TRY_ASSIGN(file_size, file.size());
  if (file_size > kMaxDescriptorBytes) {
    return make_error(
        "not a VMDK image: no sparse extent magic, and {} bytes is too large for a "
        "descriptor",
        file_size);
  }
  CELLA_TRY_ASSIGN(text, read_text(file, 0, file_size));
  CELLA_TRY_ASSIGN(descriptor, parse_descriptor(text));
  CELLA_TRY(check_create_type(descriptor.create_type));
  if (descriptor.extents.empty()) return make_error("the descriptor lists no extents");
  CELLA_TRY_ASSIGN(self, canonical(file.path()));
  std::vector<std::string> seen = {self};
  uint64_t start = 0;
  for (size_t i = 0; i < descriptor.extents.size(); ++i) {
    const ExtentLine& line = descriptor.extents[i];
    if (line.sectors == 0) continue;
    auto extent = open_extent(file.path(), line, writable, seen);
    if (!extent) {
      return extent.error().context(fmt::format("extent {} (\"{}\")", i, line.file_name));
    }
    parts.extents.push_back(ExtentSlot{start, line.access, std::move(*extent)});
    start += line.sectors * 512;
  }
  parts.descriptor_text = std::move(text);
  parts.descriptor = std::move(descriptor);
  parts.descriptor_file.emplace(std::move(file));
  return parts;
}

}  // namespace

int probe_vmdk(std::span<const uint8_t> head, uint64_t) {
  if (head.size() >= 4) {
    const uint32_t magic = load_le<uint32_t>(head.data());
    if (magic == kSparseMagic || magic == kCowdMagic) return 100;
  }
  // A descriptor file: text whose first line is the "# Disk DescriptorFile" comment, or text
  // holding the version and createType keys.
  const std::string_view text(reinterpret_cast<const char*>(head.data()), head.size());
  if (text.starts_with("# Disk DescriptorFile")) return 100;
  if (text.find('\0') == std::string_view::npos &&
      text.find("\nversion=") != std::string_view::npos &&
      text.find("createType=") != std::string_view::npos) {
    return 80;
  }
  return 0;
}

Result<std::unique_ptr<BlockImage>> open_vmdk(HostFile file, const OpenOptions& options) {
  std::vector<uint8_t> magic(4, 0);
  CELLA_TRY(file.read_zero_filled(0, magic));
  const std::string path = file.path();
  const bool writable = !options.read_only;
  Result<VmdkImage::Parts> parts = load_le<uint32_t>(magic.data()) == kSparseMagic ||
                                           load_le<uint32_t>(magic.data()) == kCowdMagic
                                       ? open_monolithic(std::move(file))
                                       : open_descriptor_file(std::move(file), writable);
  if (!parts) return parts.error();
  parts->path = path;
  parts->read_only = options.read_only;
  if (parts->descriptor.has_parent() && options.open_backing) {
    CELLA_TRY_ASSIGN(parent, open_parent(path, parts->descriptor, options));
    parts->backing = std::move(parent);
  }
  return std::unique_ptr<BlockImage>(new VmdkImage(std::move(*parts)));
}

}  // namespace cella::block::vmdk
