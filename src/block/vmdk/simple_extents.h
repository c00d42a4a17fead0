// The extents without grains (VMware Virtual Disk Format 1.1, "Simple Extents"): FLAT (and
// VMFS) extents, whose data is a contiguous range of a host file, and ZERO extents, which have
// no file and read as zeros.
#pragma once

#include <memory>

#include "block/host_file.h"
#include "block/vmdk/disk_extent.h"

namespace cella::block::vmdk {

class FlatExtent final : public DiskExtent {
 public:
  // The extent covers [offset, offset + size) of the file, which must hold it entirely.
  static Result<std::unique_ptr<FlatExtent>> open(HostFile file, uint64_t offset, uint64_t size);

  uint64_t size() const override { return size_; }
  const std::string& file_name() const override { return file_.path(); }
  std::string_view kind_name() const override { return "flat"; }
  HostFile* host_file() override { return &file_; }
  bool writable() const override { return file_.writable(); }
  Result<Segment> lookup(uint64_t offset, uint64_t max_length) override;
  Result<Segment> allocation(uint64_t offset, uint64_t max_length) override;
  Result<void> read(const Segment& segment, uint64_t offset, std::span<uint8_t> out) override;
  Result<void> write(uint64_t offset, std::span<const uint8_t> data,
                     const Background& background) override;
  Result<void> write_zeroes(uint64_t offset, uint64_t length, bool may_unmap, bool has_backing,
                            const Background& background) override;
  Result<void> discard(uint64_t offset, uint64_t length) override;
  Result<void> flush() override { return file_.flush(); }
  Result<uint64_t> allocated_bytes() const override { return file_.allocated_bytes(); }

 private:
  FlatExtent(HostFile file, uint64_t offset, uint64_t size)
      : file_(std::move(file)), offset_(offset), size_(size) {}

  HostFile file_;
  uint64_t offset_;
  uint64_t size_;
};

class ZeroExtent final : public DiskExtent {
 public:
  explicit ZeroExtent(uint64_t size) : size_(size) {}

  uint64_t size() const override { return size_; }
  const std::string& file_name() const override { return name_; }
  std::string_view kind_name() const override { return "zero"; }
  bool writable() const override { return false; }
  Result<Segment> lookup(uint64_t offset, uint64_t max_length) override;
  Result<void> read(const Segment& segment, uint64_t offset, std::span<uint8_t> out) override;
  Result<void> write(uint64_t offset, std::span<const uint8_t> data,
                     const Background& background) override;
  Result<void> write_zeroes(uint64_t, uint64_t, bool, bool, const Background&) override {
    return ok();
  }
  Result<void> flush() override { return ok(); }

 private:
  uint64_t size_;
  std::string name_;
};

}  // namespace cella::block::vmdk
