// Running `cella img`, qemu-img and qemu-io on the same files, and reading what they print.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "base/process.h"

namespace cella::interop {

using RunResult = ProcessResult;

// Runs argv[0] (searched in PATH) with the arguments, capturing stdout and stderr; a program
// that cannot start gives exit code -1 and the reason in err.
RunResult run(const std::vector<std::string>& argv);

// `cella img ARGS...` with the binary under test.
RunResult cella(const std::vector<std::string>& args);
RunResult qemu_img(const std::vector<std::string>& args);
// `qemu-io -f FORMAT -c CMD... FILE`, e.g. {"write -P 0xab 0 64k"}.
RunResult qemu_io(const std::string& format, const std::string& file,
                  const std::vector<std::string>& commands);

// Parses JSON output, failing the test (and returning null) if it is not JSON. Keep the result
// non-const: a missing key then reads as null instead of asserting.
nlohmann::json parse_json(const RunResult& result);

std::vector<uint8_t> file_bytes(const std::string& path);
uint64_t file_size(const std::string& path);
uint64_t disk_usage(const std::string& path);

// A description of a RunResult for assertion messages.
std::string describe(const RunResult& result);

}  // namespace cella::interop
