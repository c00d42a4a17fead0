// Running another program to completion and capturing what it prints (tests, benchmarks and
// tools that drive qemu-img and friends).
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace cella {

struct ProcessResult {
  int exit_code = -1;  // -1 when the program was killed by a signal
  std::string out;
  std::string err;
};

// Runs argv[0] (searched in PATH) with stdin from /dev/null and waits for it. Output goes to
// unlinked temporary files, so a chatty program never blocks on a full pipe.
Result<ProcessResult> run_process(const std::vector<std::string>& argv);

}  // namespace cella
