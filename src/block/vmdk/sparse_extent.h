// A hosted sparse extent (VMware Virtual Disk Format 1.1, "Hosted Sparse Extents"): the grains
// of the disk range it covers, located through the grain directory and grain tables. Reads
// every variant (plain, zeroed-grain GTEs, compressed stream-optimized grains); writes plain
// and zeroed-grain extents, appending new grains at the end of the file.
#pragma once

#include <memory>
#include <optional>

#include "block/host_file.h"
#include "block/vmdk/disk_extent.h"
#include "block/vmdk/grain_tables.h"
#include "block/vmdk/sparse_header.h"

namespace cella::block::vmdk {

// The header of an extent file, with the grain directory's location resolved: for a
// stream-optimized extent whose header says GD_AT_END, the footer's copy of the header.
Result<SparseHeader> read_effective_header(const HostFile& file);

class SparseExtent final : public DiskExtent {
 public:
  static Result<std::unique_ptr<SparseExtent>> open(HostFile file);
  ~SparseExtent() override;  // writes back changed grain tables

  const SparseHeader& header() const { return header_; }
  // The descriptor may give the extent a size below its capacity.
  Result<void> set_size(uint64_t bytes);

  uint64_t size() const override { return size_; }
  const std::string& file_name() const override { return file_.path(); }
  std::string_view kind_name() const override {
    return header_.compressed() ? "stream-optimized" : "sparse";
  }
  HostFile* host_file() override { return &file_; }
  uint64_t grain_bytes() const override { return header_.grain_bytes(); }
  bool writable() const override { return file_.writable() && !header_.compressed(); }
  Result<Segment> lookup(uint64_t offset, uint64_t max_length) override;
  Result<void> read(const Segment& segment, uint64_t offset, std::span<uint8_t> out) override;
  Result<void> write(uint64_t offset, std::span<const uint8_t> data,
                     const Background& background) override;
  Result<void> write_zeroes(uint64_t offset, uint64_t length, bool may_unmap, bool has_backing,
                            const Background& background) override;
  Result<void> discard(uint64_t offset, uint64_t length) override;
  Result<void> begin_writing() override;
  bool unclean() const override { return was_unclean_; }
  Result<void> flush() override;
  Result<void> check(CheckReport& report, bool repair) override;
  Result<uint64_t> allocated_bytes() const override { return file_.allocated_bytes(); }

 private:
  SparseExtent(HostFile file, const SparseHeader& header, uint64_t end)
      : file_(std::move(file)),
        header_(header),
        size_(header.capacity * 512),
        end_(end),
        was_unclean_(header.unclean_shutdown) {}

  // The kind of a grain from its GTE, validated against the file.
  Result<Segment> classify(uint64_t grain, uint32_t gte);
  Result<uint64_t> allocate(uint64_t bytes);
  // Writes data starting at a grain that is unallocated or zeroed, into new grains. Returns
  // the number of bytes written.
  Result<uint64_t> write_new_grains(uint64_t offset, std::span<const uint8_t> data,
                                    const Segment& segment, const Background& background);
  Result<void> read_compressed(uint64_t grain, uint64_t sector);
  Result<void> write_header(bool unclean);
  // Whole grains [offset, offset + length) become zeroed-grain GTEs or unallocated.
  Result<void> deallocate(uint64_t offset, uint64_t length, bool zeroed);
  // The grain-aligned part of a range: whole grains, the extent's last grain counting as whole.
  std::pair<uint64_t, uint64_t> whole_grains(uint64_t offset, uint64_t length) const;

  HostFile file_;
  SparseHeader header_;
  std::optional<GrainTables> tables_;  // loaded once file_ has its final address
  uint64_t size_;
  uint64_t end_;  // byte offset where the next grain is appended
  bool was_unclean_;
  bool in_use_ = false;  // uncleanShutdown set for this session
  // The last inflated grain, for sequential reads of compressed extents.
  uint64_t inflated_grain_ = ~uint64_t{0};
  std::vector<uint8_t> inflated_;
};

}  // namespace cella::block::vmdk
