// Reads a fuzz input as a stream of small integers: fuzz targets that replay register access
// sequences take their operations from it. Past the end it yields zeros.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cella::fuzzing {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool done() const { return position_ >= size_; }
  uint64_t take(int bytes) {
    uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) {
      const uint64_t byte = position_ < size_ ? data_[position_] : 0;
      ++position_;
      value |= byte << (8 * i);
    }
    return value;
  }
  uint8_t u8() { return static_cast<uint8_t>(take(1)); }
  uint16_t u16() { return static_cast<uint16_t>(take(2)); }
  uint32_t u32() { return static_cast<uint32_t>(take(4)); }
  uint64_t u64() { return take(8); }
  unsigned access_size() { return 1u << (u8() & 3); }  // 1, 2, 4 or 8

 private:
  const uint8_t* data_;
  size_t size_;
  size_t position_ = 0;
};

}  // namespace cella::fuzzing
