#include "memory_image.h"

#include <algorithm>
#include <cstring>

#include "base/bits.h"

namespace cella::block::testing {

MemoryImage::MemoryImage(std::string name, uint64_t size, uint64_t cluster, MemoryImage* backing)
    : name_(std::move(name)), size_(size), cluster_(cluster), backing_(backing) {
  if (backing != nullptr) backing_file_ = backing->path();
  data_.resize(static_cast<size_t>(align_up(size, cluster)));
  states_.resize(static_cast<size_t>(align_up(size, cluster) / cluster), State::kUnallocated);
}

uint64_t MemoryImage::count(State state) const {
  return static_cast<uint64_t>(std::count(states_.begin(), states_.end(), state));
}

// What a guest reads from one whole cluster, through the backing image where unallocated.
Result<void> MemoryImage::read_cluster_view(uint64_t index, std::span<uint8_t> out) {
  const uint64_t start = index * cluster_;
  switch (states_[index]) {
    case State::kData:
      std::memcpy(out.data(), data_.data() + start, out.size());
      break;
    case State::kZero:
      std::fill(out.begin(), out.end(), 0);
      break;
    case State::kUnallocated: {
      std::fill(out.begin(), out.end(), 0);
      if (backing_ != nullptr && start < backing_->size()) {
        const uint64_t n = std::min<uint64_t>(out.size(), backing_->size() - start);
        CELLA_TRY(backing_->read(start, out.first(static_cast<size_t>(n))));
      }
      break;
    }
  }
  return ok();
}

Result<void> MemoryImage::read(uint64_t offset, std::span<uint8_t> out) {
  CELLA_TRY(check_range("read", offset, out.size()));
  std::vector<uint8_t> cluster(cluster_);
  for (uint64_t done = 0; done < out.size();) {
    const uint64_t at = offset + done;
    const uint64_t index = at / cluster_;
    const uint64_t within = at % cluster_;
    const uint64_t n = std::min<uint64_t>(cluster_ - within, out.size() - done);
    CELLA_TRY(read_cluster_view(index, cluster));
    std::memcpy(out.data() + done, cluster.data() + within, n);
    done += n;
  }
  return ok();
}

Result<void> MemoryImage::write(uint64_t offset, std::span<const uint8_t> data) {
  CELLA_TRY(check_range("write", offset, data.size()));
  if (read_only_) return make_error("{}: read-only", name_);
  for (uint64_t done = 0; done < data.size();) {
    const uint64_t at = offset + done;
    const uint64_t index = at / cluster_;
    const uint64_t within = at % cluster_;
    const uint64_t n = std::min<uint64_t>(cluster_ - within, data.size() - done);
    if (states_[index] != State::kData) {  // copy-on-write of the rest of the cluster
      CELLA_TRY(
          read_cluster_view(index, std::span<uint8_t>(data_.data() + index * cluster_, cluster_)));
      states_[index] = State::kData;
    }
    std::memcpy(data_.data() + at, data.data() + done, n);
    done += n;
  }
  bytes_written += data.size();
  return ok();
}

Result<void> MemoryImage::flush() {
  ++flushes;
  return ok();
}

Result<void> MemoryImage::discard(uint64_t offset, uint64_t length) {
  CELLA_TRY(check_range("discard", offset, length));
  for (uint64_t index = align_up(offset, cluster_) / cluster_;
       (index + 1) * cluster_ <= offset + length; ++index) {
    states_[index] = State::kZero;
  }
  return ok();
}

Result<void> MemoryImage::write_zeroes(uint64_t offset, uint64_t length, bool may_unmap) {
  CELLA_TRY(check_range("write-zeroes", offset, length));
  if (read_only_) return make_error("{}: read-only", name_);
  ++zero_writes;
  if (may_unmap) ++unmapping_zero_writes;
  const std::vector<uint8_t> zeros(cluster_, 0);
  for (uint64_t at = offset; at < offset + length;) {
    const uint64_t index = at / cluster_;
    const uint64_t n = std::min(cluster_ - at % cluster_, offset + length - at);
    if (n == cluster_) {
      states_[index] = State::kZero;
    } else {
      const uint64_t saved = bytes_written;
      CELLA_TRY(write(at, std::span<const uint8_t>(zeros.data(), n)));
      bytes_written = saved;
    }
    at += n;
  }
  return ok();
}

Result<void> MemoryImage::resize(uint64_t new_size) {
  if (read_only_) return make_error("{}: read-only", name_);
  size_ = new_size;
  data_.resize(static_cast<size_t>(align_up(new_size, cluster_)));
  states_.resize(static_cast<size_t>(align_up(new_size, cluster_) / cluster_), State::kUnallocated);
  return ok();
}

Result<void> MemoryImage::write_compressed(uint64_t offset, std::span<const uint8_t> cluster) {
  if (offset % cluster_ != 0 || (cluster.size() != cluster_ && offset + cluster.size() != size_)) {
    return make_error("{}: compressed write of {} bytes at {} is not one cluster", name_,
                      cluster.size(), offset);
  }
  ++compressed_writes;
  return write(offset, cluster);
}

Result<std::vector<Extent>> MemoryImage::map(uint64_t offset, uint64_t length) {
  CELLA_TRY(check_range("map", offset, length));
  std::vector<Extent> extents;
  for (uint64_t at = offset; at < offset + length;) {
    const uint64_t index = at / cluster_;
    const uint64_t n = std::min(cluster_ - at % cluster_, offset + length - at);
    ExtentKind kind = ExtentKind::kData;
    if (states_[index] == State::kZero) kind = ExtentKind::kZero;
    if (states_[index] == State::kUnallocated) kind = ExtentKind::kUnallocated;
    if (!extents.empty() && extents.back().kind == kind) {
      extents.back().length += n;
    } else {
      extents.push_back(Extent{
          .offset = at, .length = n, .kind = kind, .depth = 0, .host_offset = -1, .host_file = {}});
    }
    at += n;
  }
  return extents;
}

Result<void> MemoryImage::set_backing(const std::string& path, const std::string& format) {
  backing_file_ = path;
  backing_format_ = format;
  return ok();
}

Result<void> MemoryImage::make_empty() {
  std::fill(states_.begin(), states_.end(), State::kUnallocated);
  return ok();
}

}  // namespace cella::block::testing
