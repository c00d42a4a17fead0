// BlockImage: one virtual disk, whatever its on-disk format. Devices (virtio-blk) and the
// `cella img` command see only this interface; formats never know who uses them.
//
// Threading: a BlockImage is driven by one thread at a time (the caller serializes); an
// asynchronous layer above it provides concurrency.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"

namespace cella::block {

// How a guest-visible range of the disk is backed, as `qemu-img map` reports it.
enum class ExtentKind : uint8_t {
  kData,  // allocated in the image at `depth` of the chain; reads what was written
  kZero,  // allocated as zeros: a zero cluster, a hole of a raw file
  // Not allocated at this depth: reads fall through to the backing image, or read as zeros
  // when there is none (qemu-img map's "present": false).
  kUnallocated,
};

struct Extent {
  uint64_t offset = 0;  // guest byte offset
  uint64_t length = 0;
  ExtentKind kind = ExtentKind::kData;
  int depth = 0;             // 0: this image, 1: its backing file, ...
  int64_t host_offset = -1;  // offset in the file holding the data, -1 if none or unknown
  std::string host_file;     // that file, when host_offset is known
};

// The result of a format's own consistency check (`cella img check`). Exit codes follow
// qemu-img: 0 clean, 2 corruptions, 3 leaks only.
struct CheckReport {
  uint64_t corruptions = 0;  // metadata that can lose or misdirect data
  uint64_t leaks = 0;        // allocated host space referenced by nothing
  uint64_t corruptions_fixed = 0;
  uint64_t leaks_fixed = 0;
  uint64_t allocated_clusters = 0;  // where the format has clusters/blocks
  uint64_t total_clusters = 0;
  uint64_t fragmented_clusters = 0;  // allocated clusters not following their predecessor
  uint64_t compressed_clusters = 0;
  uint64_t image_end_offset = 0;      // end of the last host byte in use, 0 if not meaningful
  uint64_t check_errors = 0;          // parts of the check that could not run (I/O errors)
  std::vector<std::string> messages;  // one line per problem found, naming it
};

// Format-specific facts for `cella img info`, as key/value pairs in display order.
struct InfoField {
  std::string key;
  std::string value;
};

class BlockImage {
 public:
  virtual ~BlockImage() = default;

  virtual std::string format_name() const = 0;  // "raw", "qcow2", "vhd", "vhdx", "vmdk", "vdi"
  virtual uint64_t size() const = 0;            // virtual disk size in bytes
  virtual bool read_only() const = 0;

  // Byte-granular I/O inside [0, size()); out-of-range requests are errors.
  virtual Result<void> read(uint64_t offset, std::span<uint8_t> out) = 0;
  virtual Result<void> write(uint64_t offset, std::span<const uint8_t> data) = 0;
  // Makes every completed write durable, metadata included.
  virtual Result<void> flush() = 0;
  // Deallocates a range where the format can; the range then reads as zeros (or as the
  // backing file where the format's semantics say so). Formats without discard return ok.
  virtual Result<void> discard(uint64_t offset, uint64_t length);
  // Makes a range read as zeros, deallocating it when may_unmap and the format allows.
  virtual Result<void> write_zeroes(uint64_t offset, uint64_t length, bool may_unmap);
  // Grows or shrinks the disk. A shrink that would drop allocated data is refused;
  // resize_with_data_loss() allows it (qemu-img resize --shrink).
  virtual Result<void> resize(uint64_t new_size);
  virtual Result<void> resize_with_data_loss(uint64_t new_size) { return resize(new_size); }

  // Allocation granularity (qcow2 cluster, VHD block, VMDK grain...), 0 where there is none.
  virtual uint64_t cluster_size() const { return 0; }
  // Compressed writes (qcow2, streamOptimized VMDK), used by `convert -c`: offset is aligned to
  // cluster_size() and data is one whole cluster (the last one may be short at the disk's end).
  virtual bool supports_compressed_writes() const { return false; }
  virtual Result<void> write_compressed(uint64_t offset, std::span<const uint8_t> cluster);

  // Allocation status of [offset, offset+length), in order, covering the range exactly.
  // A format reports its own level: kUnallocated where it allocates nothing (reads fall
  // through to the backing image, or read as zeros without one). ops::map_chain() resolves
  // those ranges down the chain; a format may also resolve them itself, with depth > 0.
  virtual Result<std::vector<Extent>> map(uint64_t offset, uint64_t length) = 0;
  virtual Result<CheckReport> check(bool repair);
  virtual std::vector<InfoField> info() const { return {}; }

  // The backing (parent) image of a differencing image, or nullptr (none, or not opened).
  virtual BlockImage* backing() const { return nullptr; }
  // The backing file name and format as recorded in the image's metadata (empty if none, or
  // the format does not record one). Relative names are relative to this image's folder
  // (resolve_backing_path() in format_registry.h).
  virtual std::string backing_file() const { return {}; }
  virtual std::string backing_format() const { return {}; }
  // Records a new backing file (empty path: none) without touching data (`rebase -u`). The
  // open image keeps reading through the backing it was opened with until it is reopened.
  virtual Result<void> set_backing(const std::string& path, const std::string& format);
  // Deallocates every cluster of a differencing image so that all of it reads from the
  // backing image again (`commit` without -d). Unlike discard, never leaves zeros behind.
  virtual Result<void> make_empty();
  // True when the image was not closed cleanly (qcow2 dirty bit, VHDX log): `info` reports it.
  virtual bool dirty() const { return false; }
  // The host file name of this image (for messages and `map`).
  virtual const std::string& path() const = 0;
  // Every host file holding this image (for `info`'s disk size): the image file, and for
  // formats whose data lives in several files (VMDK descriptors and extents) those too.
  virtual std::vector<std::string> host_files() const { return {path()}; }

 protected:
  // An error naming the request when [offset, offset+length) is not inside the disk.
  Result<void> check_range(std::string_view what, uint64_t offset, uint64_t length) const;
};

}  // namespace cella::block
