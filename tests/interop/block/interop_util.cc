#include "interop_util.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace cella::interop {

RunResult run(const std::vector<std::string>& argv) {
  auto result = run_process(argv);
  if (!result) return RunResult{.exit_code = -1, .out = {}, .err = result.error().message()};
  return std::move(result).value();
}

RunResult cella(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {CELLA_BINARY, "img"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

RunResult qemu_img(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"qemu-img"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

RunResult qemu_io(const std::string& format, const std::string& file,
                  const std::vector<std::string>& commands) {
  std::vector<std::string> argv = {"qemu-io", "-f", format};
  for (const std::string& command : commands) {
    argv.push_back("-c");
    argv.push_back(command);
  }
  argv.push_back(file);
  RunResult result = run(argv);
  EXPECT_EQ(result.exit_code, 0) << describe(result);
  return result;
}

nlohmann::json parse_json(const RunResult& result) {
  auto json = nlohmann::json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(json.is_discarded()) << "not JSON: " << describe(result);
  return json;
}

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
}

uint64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

uint64_t disk_usage(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_blocks) * 512 : 0;
}

std::string describe(const RunResult& result) {
  return "exit " + std::to_string(result.exit_code) + "\nstdout:\n" + result.out + "stderr:\n" +
         result.err;
}

}  // namespace cella::interop
