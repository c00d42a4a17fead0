// `cella img convert` beside `qemu-img convert` on a multi-GiB sparse image.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"

namespace cella::bench {

struct ConvertSettings {
  std::string dir;
  std::string cella_binary;
  uint64_t image_size = 4ull << 30;    // virtual size of the source
  uint64_t data_bytes = 512ull << 20;  // written in 1 MiB runs spread over it, the rest holes
  int runs = 3;                        // best of
};

// Prints one line per conversion (raw->qcow2, qcow2->raw, raw->raw): seconds for each tool
// and the ratio (qemu-img's time / Cella's: above 1, Cella is faster).
Result<void> run_convert_bench(const ConvertSettings& settings);

}  // namespace cella::bench
