// Writing a stream-optimized extent (VMware Virtual Disk Format 1.1, "Stream-Optimized
// Compressed Sparse Extents"), as `convert -O vmdk -o subformat=streamOptimized` does: each
// grain is deflated and appended behind a grain marker in the order the grains are completed.
// flush() writes what the specification puts after the last grain -- grain tables (each behind
// a grain table marker), the grain directory, the footer holding the directory's real offset
// (the header says GD_AT_END) and the end-of-stream marker -- so that the image is complete
// after every flush. Grains written later overwrite that trailer and a new one follows them.
//
// A grain cannot be rewritten once it has been appended: such writes are refused. Streams laid
// out otherwise (qemu puts the grain directory at the start) are opened read-only.
#pragma once

#include <map>
#include <memory>

#include "block/host_file.h"
#include "block/vmdk/disk_extent.h"
#include "block/vmdk/sparse_header.h"

namespace cella::block::vmdk {

class StreamExtent final : public DiskExtent {
 public:
  static Result<std::unique_ptr<StreamExtent>> open(HostFile file);
  ~StreamExtent() override;

  // The metadata of an empty stream, written by create after the header and descriptor.
  static Result<void> write_empty_trailer(HostFile& file, const SparseHeader& header, uint64_t at);

  uint64_t size() const override { return size_; }
  const std::string& file_name() const override { return file_.path(); }
  std::string_view kind_name() const override { return "stream-optimized"; }
  HostFile* host_file() override { return &file_; }
  uint64_t grain_bytes() const override { return header_.grain_bytes(); }
  bool writable() const override { return file_.writable(); }
  Result<Segment> lookup(uint64_t offset, uint64_t max_length) override;
  Result<void> read(const Segment& segment, uint64_t offset, std::span<uint8_t> out) override;
  Result<void> write(uint64_t offset, std::span<const uint8_t> data,
                     const Background& background) override;
  // Zeros for grains not yet written are free; written grains cannot change.
  Result<void> write_zeroes(uint64_t offset, uint64_t length, bool may_unmap, bool has_backing,
                            const Background& background) override;
  Result<void> flush() override;
  Result<void> check(CheckReport& report, bool repair) override;
  Result<uint64_t> allocated_bytes() const override { return file_.allocated_bytes(); }
  Result<void> set_size(uint64_t bytes);

 private:
  StreamExtent(HostFile file, const SparseHeader& header, uint64_t append_at)
      : file_(std::move(file)),
        header_(header),
        size_(header.capacity * 512),
        append_at_(append_at) {}

  uint32_t entry(uint64_t grain) const;
  Error rewrite_refused(uint64_t grain) const;
  Result<void> emit_pending();
  Result<void> write_trailer();

  HostFile file_;
  SparseHeader header_;  // as in the footer, gd_offset updated by each trailer
  uint64_t size_;
  uint64_t append_at_;  // byte offset of the next grain (where the trailer starts)
  std::map<uint64_t, std::vector<uint32_t>> tables_;  // grain tables holding a grain
  static constexpr uint64_t kNone = ~uint64_t{0};
  uint64_t pending_grain_ = kNone;  // the grain being filled, not yet appended
  std::vector<uint8_t> pending_;
  bool dirty_ = false;  // grains appended or pending since the last trailer
  uint64_t inflated_grain_ = kNone;
  std::vector<uint8_t> inflated_;
};

}  // namespace cella::block::vmdk
