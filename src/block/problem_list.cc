#include "block/problem_list.h"

namespace cella::block {

std::string ProblemList::summary() const {
  if (count_ == 0) return "";
  if (count_ == 1) return messages_.front();
  return fmt::format("{} (and {} more problems)", messages_.front(), count_ - 1);
}

void ProblemList::report_to(CheckReport& report) const {
  report.corruptions += count_;
  report.messages.insert(report.messages.end(), messages_.begin(), messages_.end());
  if (count_ > messages_.size()) {
    report.messages.push_back(
        fmt::format("... and {} more problems of the same kinds", count_ - messages_.size()));
  }
}

}  // namespace cella::block
