#include "bench_util.h"

#include <unistd.h>

#include <random>

#include "block/format_registry.h"

namespace cella::bench {

Result<ProcessResult> run_checked(const std::vector<std::string>& argv) {
  CELLA_TRY_ASSIGN(result, run_process(argv));
  if (result.exit_code != 0) {
    std::string command;
    for (const std::string& arg : argv) command += (command.empty() ? "" : " ") + arg;
    return make_error("'{}' failed (exit {}): {}{}", command, result.exit_code, result.out,
                      result.err);
  }
  return result;
}

Result<double> time_run(const std::vector<std::string>& argv) {
  const double start = now_seconds();
  CELLA_TRY(run_checked(argv));
  return now_seconds() - start;
}

bool cella_has_format(const std::string& format) {
  return block::find_format(format) != nullptr;
}

Result<void> write_random_raw(const std::string& path, uint64_t size, uint64_t data_bytes) {
  CELLA_TRY(block::create_image(
      "raw",
      block::CreateOptions{
          .path = path, .size = size, .backing_file = {}, .backing_format = {}, .options = {}}));
  block::OpenOptions options;
  options.format = "raw";
  CELLA_TRY_ASSIGN(image, block::open_image(path, options));
  std::mt19937_64 random(42);
  std::vector<uint8_t> chunk(kMiB);
  const uint64_t runs = data_bytes / kMiB;
  const uint64_t stride = runs == 0 ? size : size / runs;  // one 1 MiB run every `stride`
  for (uint64_t run = 0; run < runs; ++run) {
    for (size_t i = 0; i < chunk.size(); i += 8) {
      const uint64_t value = random();
      std::memcpy(chunk.data() + i, &value, 8);
    }
    CELLA_TRY(image->write(run * stride, chunk));
  }
  return image->flush();
}

void remove_file(const std::string& path) {
  ::unlink(path.c_str());
}

}  // namespace cella::bench
