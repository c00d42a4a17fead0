// RawImage: a BlockImage whose guest byte N is host byte N of one file.
#pragma once

#include <string>

#include "block/block_image.h"
#include "block/host_file.h"

namespace cella::block {

class RawImage final : public BlockImage {
 public:
  // guard_probe: the format was probed, so writes that would make the file probe as another
  // format are refused (see OpenOptions::format_probed).
  RawImage(HostFile file, uint64_t size, bool guard_probe)
      : file_(std::move(file)), size_(size), guard_probe_(guard_probe) {}

  std::string format_name() const override { return "raw"; }
  uint64_t size() const override { return size_; }
  bool read_only() const override { return !file_.writable(); }
  const std::string& path() const override { return file_.path(); }

  Result<void> read(uint64_t offset, std::span<uint8_t> out) override;
  Result<void> write(uint64_t offset, std::span<const uint8_t> data) override;
  Result<void> flush() override;
  Result<void> discard(uint64_t offset, uint64_t length) override;
  Result<void> write_zeroes(uint64_t offset, uint64_t length, bool may_unmap) override;
  Result<void> resize(uint64_t new_size) override;
  Result<std::vector<Extent>> map(uint64_t offset, uint64_t length) override;
  Result<CheckReport> check(bool repair) override;

 private:
  Result<void> check_probe_guard(uint64_t offset, std::span<const uint8_t> data) const;

  HostFile file_;
  uint64_t size_;
  bool guard_probe_;
};

}  // namespace cella::block
