#include "snapshot/state_stream.h"

#include <algorithm>
#include <cassert>

namespace cella::snapshot {

void StateWriter::put(uint64_t value, int size) {
  for (int i = 0; i < size; ++i) data_.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

void StateWriter::begin_section(std::string_view name, uint32_t version) {
  assert(version >= 1);
  u16(static_cast<uint16_t>(name.size()));
  data_.insert(data_.end(), name.begin(), name.end());
  u32(version);
  open_.push_back(data_.size());
  u64(0);  // patched by end_section
}

void StateWriter::end_section() {
  assert(!open_.empty());
  const size_t length_at = open_.back();
  open_.pop_back();
  const uint64_t length = data_.size() - (length_at + 8);
  for (int i = 0; i < 8; ++i) data_[length_at + i] = static_cast<uint8_t>(length >> (8 * i));
}

void StateWriter::bytes(std::span<const uint8_t> data) {
  data_.insert(data_.end(), data.begin(), data.end());
}

Result<uint64_t> StateReader::get(int size) {
  if (limit() - position_ < static_cast<size_t>(size)) {
    return make_error("state stream: section '{}' is truncated (needs {} more bytes at offset {})",
                      names_.empty() ? "" : names_.back(), size, position_);
  }
  uint64_t value = 0;
  for (int i = 0; i < size; ++i) value |= uint64_t{data_[position_ + i]} << (8 * i);
  position_ += size;
  return value;
}

Result<uint32_t> StateReader::begin_section(std::string_view name, uint32_t max_version) {
  CELLA_TRY_ASSIGN(name_length, get(2));
  if (limit() - position_ < name_length) {
    return make_error("state stream: truncated section name where '{}' was expected", name);
  }
  const std::string_view found(reinterpret_cast<const char*>(data_.data() + position_),
                               name_length);
  if (found != name) {
    return make_error("state stream: expected section '{}', found '{}'", name, found);
  }
  position_ += name_length;
  CELLA_TRY_ASSIGN(version, get(4));
  CELLA_TRY_ASSIGN(length, get(8));
  if (version == 0 || version > max_version) {
    return make_error("state stream: section '{}' has version {}, this build reads 1 to {}", name,
                      version, max_version);
  }
  if (length > limit() - position_) {
    return make_error("state stream: section '{}' claims {} bytes, {} remain", name, length,
                      limit() - position_);
  }
  ends_.push_back(position_ + length);
  names_.emplace_back(name);
  return static_cast<uint32_t>(version);
}

Result<void> StateReader::end_section() {
  assert(!ends_.empty());
  if (position_ != ends_.back()) {
    return make_error("state stream: section '{}' has {} unread bytes", names_.back(),
                      ends_.back() - position_);
  }
  ends_.pop_back();
  names_.pop_back();
  return ok();
}

Result<uint8_t> StateReader::u8() {
  CELLA_TRY_ASSIGN(v, get(1));
  return static_cast<uint8_t>(v);
}
Result<uint16_t> StateReader::u16() {
  CELLA_TRY_ASSIGN(v, get(2));
  return static_cast<uint16_t>(v);
}
Result<uint32_t> StateReader::u32() {
  CELLA_TRY_ASSIGN(v, get(4));
  return static_cast<uint32_t>(v);
}
Result<uint64_t> StateReader::u64() {
  return get(8);
}

Result<bool> StateReader::boolean() {
  CELLA_TRY_ASSIGN(v, get(1));
  if (v > 1) return make_error("state stream: boolean field holds {}", v);
  return v == 1;
}

Result<void> StateReader::bytes(std::span<uint8_t> out) {
  if (limit() - position_ < out.size()) {
    return make_error("state stream: section '{}' is truncated ({} bytes of data expected)",
                      names_.empty() ? "" : names_.back(), out.size());
  }
  std::copy_n(data_.begin() + static_cast<std::ptrdiff_t>(position_), out.size(), out.begin());
  position_ += out.size();
  return ok();
}

}  // namespace cella::snapshot
