// Block storage benchmarks: Cella's BlockImage and `cella img convert` beside qemu-img, in one
// run, on the same files. See docs/benchmarks.md.
//
//   block_bench [--dir DIR] [--io-size SIZE] [--ops N] [--convert-size SIZE]
//               [--convert-data SIZE] [--runs N] [--formats raw,qcow2] [--skip-io]
//               [--skip-convert] [--cella PATH]
#include <fmt/format.h>
#include <sys/stat.h>
#include <CLI/CLI.hpp>

#include "bench_util.h"
#include "cli/img_args.h"
#include "convert_bench.h"
#include "io_bench.h"

namespace {

// A CLI11 check that accepts the sizes `cella img` accepts ("1G", "512M").
uint64_t size_value(const std::string& text, const char* flag) {
  auto size = cella::cli::parse_size(text);
  if (!size) throw CLI::ValidationError(flag, size.error().message());
  return *size;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Block benchmarks: Cella beside qemu-img (docs/benchmarks.md)"};
  std::string dir = "/var/tmp/cella-bench";
  std::string io_size = "1G";
  std::string convert_size = "4G";
  std::string convert_data = "512M";
  cella::bench::IoSettings io;
  cella::bench::ConvertSettings convert;
  convert.cella_binary = CELLA_BINARY;
  int runs = 3;
  bool skip_io = false;
  bool skip_convert = false;
  app.add_option("--dir", dir, "folder for the images (on the disk to measure)");
  app.add_option("--io-size", io_size, "image size for the 4 KiB I/O runs");
  app.add_option("--ops", io.ops, "requests per I/O run");
  app.add_option("--convert-size", convert_size, "virtual size of the image to convert");
  app.add_option("--convert-data", convert_data, "data written into it, in 1 MiB runs");
  app.add_option("--runs", runs, "runs per measurement (the best counts)")
      ->check(CLI::Range(1, 100));
  app.add_option("--formats", io.formats, "formats for the I/O runs")->delimiter(',');
  app.add_flag("--skip-io", skip_io, "skip the I/O runs");
  app.add_flag("--skip-convert", skip_convert, "skip the convert runs");
  app.add_option("--cella", convert.cella_binary, "the cella binary whose convert is measured");
  CLI11_PARSE(app, argc, argv);

  try {
    io.image_size = size_value(io_size, "--io-size");
    convert.image_size = size_value(convert_size, "--convert-size");
    convert.data_bytes = size_value(convert_data, "--convert-data");
  } catch (const CLI::ValidationError& error) {
    return app.exit(error);
  }
  ::mkdir(dir.c_str(), 0755);
  io.dir = convert.dir = dir;
  io.runs = convert.runs = runs;
  if (!skip_io) {
    if (auto result = cella::bench::run_io_bench(io); !result) {
      fmt::print(stderr, "block_bench: {}\n", result.error().message());
      return 1;
    }
  }
  if (!skip_convert) {
    if (auto result = cella::bench::run_convert_bench(convert); !result) {
      fmt::print(stderr, "block_bench: {}\n", result.error().message());
      return 1;
    }
  }
  return 0;
}
