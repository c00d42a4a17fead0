// Problems found while opening an image (bad BAT entries, overlapping blocks), for the error
// that refuses a read-write open and for `check`. A hostile image can have millions of them:
// every one is counted, only the first kKept are formatted and kept.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "block/block_image.h"

namespace cella::block {

class ProblemList {
 public:
  static constexpr size_t kKept = 50;

  template <typename... Args>
  void add(fmt::format_string<Args...> format, Args&&... args) {
    if (messages_.size() < kKept)
      messages_.push_back(fmt::format(format, std::forward<Args>(args)...));
    ++count_;
  }
  bool empty() const { return count_ == 0; }
  uint64_t count() const { return count_; }
  // The first problem, and how many more there are.
  std::string summary() const;
  // Counts every problem as a corruption and lists the kept ones (and how many were not).
  void report_to(CheckReport& report) const;

 private:
  std::vector<std::string> messages_;
  uint64_t count_ = 0;
};

}  // namespace cella::block
