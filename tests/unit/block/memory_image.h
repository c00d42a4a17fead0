// MemoryImage: an in-memory differencing image for testing the format-independent operations
// (convert, commit, rebase, compare) without depending on one format's driver. Each cluster is
// unallocated (reads from the backing image, or zeros without one), data, or zero, as in qcow2.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "block/block_image.h"

namespace cella::block::testing {

class MemoryImage : public BlockImage {
 public:
  enum class State : uint8_t { kUnallocated, kData, kZero };

  MemoryImage(std::string name, uint64_t size, uint64_t cluster = 4096,
              MemoryImage* backing = nullptr);

  std::string format_name() const override { return "memory"; }
  uint64_t size() const override { return size_; }
  bool read_only() const override { return read_only_; }
  const std::string& path() const override { return name_; }
  uint64_t cluster_size() const override { return cluster_; }
  BlockImage* backing() const override { return backing_; }
  std::string backing_file() const override { return backing_file_; }
  std::string backing_format() const override { return backing_format_; }

  Result<void> read(uint64_t offset, std::span<uint8_t> out) override;
  Result<void> write(uint64_t offset, std::span<const uint8_t> data) override;
  Result<void> flush() override;
  Result<void> discard(uint64_t offset, uint64_t length) override;
  Result<void> write_zeroes(uint64_t offset, uint64_t length, bool may_unmap) override;
  Result<void> resize(uint64_t new_size) override;
  bool supports_compressed_writes() const override { return compressible_; }
  Result<void> write_compressed(uint64_t offset, std::span<const uint8_t> cluster) override;
  Result<std::vector<Extent>> map(uint64_t offset, uint64_t length) override;
  Result<void> set_backing(const std::string& path, const std::string& format) override;
  Result<void> make_empty() override;

  // Test controls and observations.
  void set_read_only(bool read_only) { read_only_ = read_only; }
  void set_compressible(bool compressible) { compressible_ = compressible; }
  void set_backing_image(MemoryImage* backing) { backing_ = backing; }
  State state(uint64_t cluster_index) const { return states_[cluster_index]; }
  uint64_t count(State state) const;
  uint64_t bytes_written = 0;          // through write()
  uint64_t zero_writes = 0;            // write_zeroes() calls
  uint64_t unmapping_zero_writes = 0;  // write_zeroes() calls that allowed deallocation
  uint64_t compressed_writes = 0;      // write_compressed() calls
  uint64_t flushes = 0;

 private:
  Result<void> read_cluster_view(uint64_t index, std::span<uint8_t> out);

  std::string name_;
  uint64_t size_;
  uint64_t cluster_;
  MemoryImage* backing_;
  std::string backing_file_;
  std::string backing_format_;
  bool read_only_ = false;
  bool compressible_ = false;
  std::vector<uint8_t> data_;
  std::vector<State> states_;
};

}  // namespace cella::block::testing
