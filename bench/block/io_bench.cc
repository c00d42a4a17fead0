#include "io_bench.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <numeric>
#include <regex>

#include "bench_util.h"
#include "block/format_registry.h"

namespace cella::bench {

namespace {

constexpr uint64_t kBlock = 4096;
constexpr int kPatternByte = 0x5a;  // what writes write, on both sides

struct Pattern {
  const char* name;
  bool write;
  bool random;
};

constexpr std::array<Pattern, 4> kPatterns = {{
    {"seq read", false, false},
    {"rand read", false, true},
    {"seq write", true, false},
    {"rand write", true, true},
}};

// qemu-img bench moves by a fixed step, wrapping at the end of the image (offset = (offset +
// step) % size). Sequential: one block. "Random": a stride of about 0.618 of the image,
// coprime with its block count, so that consecutive requests land far apart and every block
// is visited once before any repeats; both sides follow exactly the same sequence.
uint64_t step_for(const Pattern& pattern, uint64_t size) {
  if (!pattern.random) return kBlock;
  const uint64_t blocks = size / kBlock;
  uint64_t stride = static_cast<uint64_t>(static_cast<double>(blocks) * 0.6180339887) | 1;
  while (std::gcd(stride, blocks) != 1) stride += 2;
  return stride * kBlock;
}

Result<double> cella_seconds(const std::string& path, const std::string& format,
                             const Pattern& pattern, uint64_t step, const IoSettings& settings) {
  block::OpenOptions options;
  options.format = format;
  options.read_only = !pattern.write;
  CELLA_TRY_ASSIGN(image, block::open_image(path, options));
  std::vector<uint8_t> buffer(kBlock, kPatternByte);
  const uint64_t size = image->size();
  uint64_t offset = 0;
  const double start = now_seconds();
  for (uint64_t i = 0; i < settings.ops; ++i) {
    if (pattern.write) {
      CELLA_TRY(image->write(offset, buffer));
    } else {
      CELLA_TRY(image->read(offset, buffer));
    }
    offset = (offset + step) % size;
  }
  return now_seconds() - start;  // like qemu-img bench: the final flush is not timed
}

// qemu's block layer runs requests through an AIO engine: its default thread pool, or
// io_uring. The reference is the faster of the two, so Cella is measured against qemu at its
// best.
constexpr std::array<const char*, 2> kQemuAio = {"threads", "io_uring"};

Result<double> qemu_seconds(const std::string& path, const std::string& format,
                            const Pattern& pattern, uint64_t step, const IoSettings& settings,
                            const char* aio) {
  std::vector<std::string> args = {"qemu-img", "bench",
                                   "-f",       format,
                                   "-t",       "writeback",
                                   "-i",       aio,
                                   "-d",       "1",
                                   "-c",       std::to_string(settings.ops),
                                   "-s",       std::to_string(kBlock),
                                   "-S",       std::to_string(step)};
  if (pattern.write) {
    args.push_back("-w");
    args.push_back("--pattern=" + std::to_string(kPatternByte));
  }
  args.push_back(path);
  CELLA_TRY_ASSIGN(result, run_checked(args));
  static const std::regex kCompleted("Run completed in ([0-9.]+) seconds");
  std::smatch match;
  if (!std::regex_search(result.out, match, kCompleted)) {
    return make_error("unexpected qemu-img bench output: {}", result.out);
  }
  return std::stod(match[1].str());
}

// A fresh, empty image for a write measurement (each side gets its own).
Result<std::string> fresh_image(const IoSettings& settings, const std::string& format) {
  const std::string path = settings.dir + "/fresh." + format;
  remove_file(path);
  CELLA_TRY(run_checked(
      {"qemu-img", "create", "-q", "-f", format, path, std::to_string(settings.image_size)}));
  return path;
}

// The fully written image that read measurements read (the same file for both sides).
Result<std::string> filled_image(const IoSettings& settings, const std::string& format) {
  const std::string raw = settings.dir + "/filled.raw";
  if (format == "raw") return raw;
  const std::string path = settings.dir + "/filled." + format;
  remove_file(path);
  CELLA_TRY(run_checked({"qemu-img", "convert", "-f", "raw", "-O", format, raw, path}));
  return path;
}

double mib_per_second(const IoSettings& settings, double seconds) {
  return static_cast<double>(settings.ops * kBlock) / static_cast<double>(kMiB) / seconds;
}

Result<void> bench_format(const IoSettings& settings, const std::string& format) {
  CELLA_TRY_ASSIGN(filled, filled_image(settings, format));
  for (const Pattern& pattern : kPatterns) {
    const uint64_t step = step_for(pattern, settings.image_size);
    double cella_best = 1e30;
    double qemu_best = 1e30;
    for (int run = 0; run < settings.runs; ++run) {
      std::string path = filled;
      if (pattern.write) {
        CELLA_TRY_ASSIGN(fresh, fresh_image(settings, format));
        path = fresh;
      }
      CELLA_TRY_ASSIGN(ours, cella_seconds(path, format, pattern, step, settings));
      cella_best = std::min(cella_best, ours);
      for (const char* aio : kQemuAio) {
        if (pattern.write) {
          CELLA_TRY_ASSIGN(fresh, fresh_image(settings, format));
          path = fresh;
        }
        auto theirs = qemu_seconds(path, format, pattern, step, settings, aio);
        if (theirs) qemu_best = std::min(qemu_best, *theirs);
        if (!theirs && std::string_view(aio) == "threads") return theirs.error();
      }
    }
    const double ours = mib_per_second(settings, cella_best);
    const double theirs = mib_per_second(settings, qemu_best);
    fmt::print("{:<7} {:<11} {:>12.1f} {:>15.1f} {:>8.2f}\n", format, pattern.name, ours, theirs,
               ours / theirs);
  }
  if (format != "raw") remove_file(filled);
  remove_file(settings.dir + "/fresh." + format);
  return ok();
}

}  // namespace

Result<void> run_io_bench(const IoSettings& settings) {
  fmt::print(
      "4 KiB requests at queue depth 1, cache mode writeback on both sides, {} requests per "
      "run, best of {}, {} MiB images\n"
      "(reads: a fully written image; writes: a freshly created, empty one; qemu-img: the "
      "faster of aio=threads and aio=io_uring)\n\n",
      settings.ops, settings.runs, settings.image_size / kMiB);
  fmt::print("{:<7} {:<11} {:>12} {:>15} {:>8}\n", "format", "pattern", "cella MiB/s",
             "qemu-img MiB/s", "ratio");
  CELLA_TRY(
      write_random_raw(settings.dir + "/filled.raw", settings.image_size, settings.image_size));
  for (const std::string& format : settings.formats) {
    if (!cella_has_format(format)) {
      fmt::print("{:<7} (no Cella driver for this format in this build: skipped)\n", format);
      continue;
    }
    CELLA_TRY(bench_format(settings, format));
  }
  remove_file(settings.dir + "/filled.raw");
  return ok();
}

}  // namespace cella::bench
