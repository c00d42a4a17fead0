// Reference counts rebuilt by the checker, one per host cluster, stored in chunks allocated only
// where references exist: memory follows what the image references, not how large (or how
// sparse) its file claims to be.
#pragma once

#include <cstdint>
#include <map>
#include <unordered_map>
#include <vector>

namespace cella::block::qcow2 {

class ReferenceCounts {
 public:
  uint64_t get(uint64_t cluster) const {
    auto chunk = chunks_.find(cluster / kChunk);
    if (chunk == chunks_.end()) return 0;
    const uint16_t value = chunk->second[cluster % kChunk];
    return value == kBig ? big_.at(cluster) : value;
  }

  void add(uint64_t cluster) {
    auto& chunk = chunks_[cluster / kChunk];
    if (chunk.empty()) chunk.assign(kChunk, 0);
    uint16_t& value = chunk[cluster % kChunk];
    if (value == kBig) {
      ++big_[cluster];
    } else if (value == kBig - 1) {
      value = kBig;
      big_[cluster] = kBig;
    } else {
      ++value;
    }
  }

  void remove(uint64_t cluster) {
    auto chunk = chunks_.find(cluster / kChunk);
    if (chunk == chunks_.end()) return;
    uint16_t& value = chunk->second[cluster % kChunk];
    if (value == kBig) {
      if (--big_[cluster] < kBig) {
        value = static_cast<uint16_t>(big_[cluster]);
        big_.erase(cluster);
      }
    } else if (value > 0) {
      --value;
    }
  }

  // Calls f(cluster, count) for every referenced cluster, in increasing order.
  template <class F>
  void for_each(F f) const {
    for (const auto& [index, chunk] : chunks_) {
      for (uint64_t i = 0; i < kChunk; ++i) {
        if (chunk[i] != 0) f(index * kChunk + i, get(index * kChunk + i));
      }
    }
  }

  // One past the highest referenced cluster.
  uint64_t end() const {
    for (auto it = chunks_.rbegin(); it != chunks_.rend(); ++it) {
      for (uint64_t i = kChunk; i-- > 0;) {
        if (it->second[i] != 0) return it->first * kChunk + i + 1;
      }
    }
    return 0;
  }

 private:
  static constexpr uint64_t kChunk = 1 << 16;
  static constexpr uint16_t kBig = 0xffff;  // the exact count lives in big_
  std::map<uint64_t, std::vector<uint16_t>> chunks_;
  std::unordered_map<uint64_t, uint64_t> big_;
};

}  // namespace cella::block::qcow2
