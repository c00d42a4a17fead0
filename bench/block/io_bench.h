// 4 KiB reads and writes at queue depth 1 through BlockImage, beside `qemu-img bench` on the
// same host files with the same access pattern and cache mode (writeback).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace cella::bench {

struct IoSettings {
  std::string dir;  // where the images live
  uint64_t image_size = 1ull << 30;
  uint64_t ops = 100000;  // requests per measurement
  int runs = 3;           // best of
  std::vector<std::string> formats = {"raw", "qcow2"};
};

// Prints one line per format and pattern: Cella's MiB/s, qemu-img's and their ratio.
Result<void> run_io_bench(const IoSettings& settings);

}  // namespace cella::bench
