// Shared pieces of the block benchmarks: timing, running qemu-img and cella, test images.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/process.h"
#include "base/result.h"

namespace cella::bench {

inline constexpr uint64_t kMiB = 1 << 20;

// Seconds since an arbitrary point, for measuring intervals.
inline double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Runs a program and fails unless it exits with 0; returns what it printed.
Result<ProcessResult> run_checked(const std::vector<std::string>& argv);

// Wall-clock seconds of a successful run of argv.
Result<double> time_run(const std::vector<std::string>& argv);

// True when Cella has a driver for the format.
bool cella_has_format(const std::string& format);

// Writes a raw image of `size` bytes holding deterministic pseudo-random data: everywhere, or
// (sparse) `data_bytes` spread in 1 MiB runs, the rest holes.
Result<void> write_random_raw(const std::string& path, uint64_t size, uint64_t data_bytes);

void remove_file(const std::string& path);

}  // namespace cella::bench
