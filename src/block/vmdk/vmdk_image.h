// A VMDK disk (VMware Virtual Disk Format 1.1): its descriptor, its extents laid end to end,
// and for a delta disk its parent. Reads fall through unallocated grains to the parent.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "block/block_image.h"
#include "block/host_file.h"
#include "block/vmdk/descriptor.h"
#include "block/vmdk/disk_extent.h"

namespace cella::block::vmdk {

struct ExtentSlot {
  uint64_t start = 0;  // disk byte offset
  ExtentAccess access = ExtentAccess::kReadWrite;
  std::unique_ptr<DiskExtent> extent;
};

// Where the descriptor text lives: a file of its own, or a reserved area of a sparse extent.
struct DescriptorPlace {
  HostFile* file = nullptr;  // nullptr: the image has no descriptor (a bare sparse extent)
  uint64_t offset = 0;
  uint64_t capacity = 0;  // bytes reserved; 0 for a separate file (any size)
};

class VmdkImage final : public BlockImage {
 public:
  struct Parts {
    std::string path;
    bool read_only = true;
    std::string descriptor_text;
    Descriptor descriptor;
    std::optional<HostFile> descriptor_file;  // a separate descriptor file
    DescriptorPlace embedded;                 // an embedded descriptor (file is extent 0's)
    std::vector<ExtentSlot> extents;
    std::unique_ptr<BlockImage> backing;
  };
  explicit VmdkImage(Parts parts);
  ~VmdkImage() override;

  std::string format_name() const override { return "vmdk"; }
  uint64_t size() const override { return size_; }
  bool read_only() const override { return read_only_; }
  Result<void> read(uint64_t offset, std::span<uint8_t> out) override;
  Result<void> write(uint64_t offset, std::span<const uint8_t> data) override;
  Result<void> flush() override;
  Result<void> discard(uint64_t offset, uint64_t length) override;
  Result<void> write_zeroes(uint64_t offset, uint64_t length, bool may_unmap) override;
  uint64_t cluster_size() const override;
  bool supports_compressed_writes() const override;
  Result<void> write_compressed(uint64_t offset, std::span<const uint8_t> cluster) override;
  Result<std::vector<block::Extent>> map(uint64_t offset, uint64_t length) override;
  Result<CheckReport> check(bool repair) override;
  std::vector<InfoField> info() const override;
  BlockImage* backing() const override { return backing_.get(); }
  // "Header": parentFileNameHint names the parent of a delta disk (parentCID not ffffffff).
  std::string backing_file() const override;
  std::string backing_format() const override;
  Result<void> set_backing(const std::string& path, const std::string& format) override;
  Result<void> make_empty() override;
  const std::string& path() const override { return path_; }
  std::vector<std::string> host_files() const override;

  uint32_t cid() const { return descriptor_.cid; }
  const Descriptor& descriptor() const { return descriptor_; }

 private:
  // The extent holding a disk offset.
  ExtentSlot& slot_at(uint64_t offset);
  Result<void> check_range(uint64_t offset, uint64_t length, std::string_view what) const;
  // What the disk reads where this image has no data: the parent's data, else zeros.
  Result<void> read_background(uint64_t offset, std::span<uint8_t> out);
  Background background_for(const ExtentSlot& slot);
  // Before the first change: a new CID, so that delta disks of this one notice the change.
  Result<void> begin_change(const ExtentSlot& slot);
  Result<void> write_descriptor(const std::string& text);
  // Calls fn(slot, extent_offset, length) for each extent piece of a disk range.
  template <class Fn>
  Result<void> for_each_piece(uint64_t offset, uint64_t length, Fn&& fn);

  std::string path_;
  bool read_only_;
  std::string descriptor_text_;
  Descriptor descriptor_;
  std::optional<HostFile> descriptor_file_;
  DescriptorPlace descriptor_place_;
  std::vector<ExtentSlot> extents_;
  std::unique_ptr<BlockImage> backing_;
  uint64_t size_ = 0;
  bool changed_ = false;
};

}  // namespace cella::block::vmdk
