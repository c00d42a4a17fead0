// Versioned state streams: every stateful component (CPU, device, memory, backend) saves
// itself as one named, versioned section, so snapshots, restore and live migration need no
// retrofitting. A section is: name (length-prefixed), version (u32), payload length (u64),
// payload. Integers are little-endian. A reader that meets an unexpected name, a version it
// does not know, a truncated payload or unread payload bytes reports a clear error.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace cella::snapshot {

class StateWriter {
 public:
  // Starts a section; fields written until end_section() form its payload. Sections nest.
  void begin_section(std::string_view name, uint32_t version);
  void end_section();

  void u8(uint8_t value) { put(value, 1); }
  void u16(uint16_t value) { put(value, 2); }
  void u32(uint32_t value) { put(value, 4); }
  void u64(uint64_t value) { put(value, 8); }
  void boolean(bool value) { u8(value ? 1 : 0); }
  void bytes(std::span<const uint8_t> data);  // fixed-size: the reader knows the length

  const std::vector<uint8_t>& data() const { return data_; }

 private:
  void put(uint64_t value, int size);
  std::vector<uint8_t> data_;
  std::vector<size_t> open_;  // offsets of the payload-length fields of open sections
};

class StateReader {
 public:
  explicit StateReader(std::span<const uint8_t> data) : data_(data) {}

  // Enters the next section, which must be called `name`, and returns its version, which must
  // be in [1, max_version] (a newer stream than this build understands is refused).
  Result<uint32_t> begin_section(std::string_view name, uint32_t max_version);
  // Leaves the current section; every byte of its payload must have been read.
  Result<void> end_section();

  Result<uint8_t> u8();
  Result<uint16_t> u16();
  Result<uint32_t> u32();
  Result<uint64_t> u64();
  Result<bool> boolean();
  Result<void> bytes(std::span<uint8_t> out);

  bool at_end() const { return position_ == data_.size(); }

 private:
  Result<uint64_t> get(int size);
  size_t limit() const { return ends_.empty() ? data_.size() : ends_.back(); }
  std::span<const uint8_t> data_;
  size_t position_ = 0;
  std::vector<size_t> ends_;  // end offsets of the open sections
  std::vector<std::string> names_;
};

}  // namespace cella::snapshot
