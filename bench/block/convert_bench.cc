#include "convert_bench.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "bench_util.h"

namespace cella::bench {

namespace {

struct Conversion {
  const char* from;
  const char* to;
};

constexpr std::array<Conversion, 3> kConversions = {{
    {"raw", "qcow2"},
    {"qcow2", "raw"},
    {"raw", "raw"},
}};

// The source of a conversion: the sparse raw image, or qemu-img's conversion of it.
Result<std::string> source_image(const ConvertSettings& settings, const std::string& format) {
  const std::string raw = settings.dir + "/sparse.raw";
  if (format == "raw") return raw;
  const std::string path = settings.dir + "/sparse." + format;
  remove_file(path);
  CELLA_TRY(run_checked({"qemu-img", "convert", "-f", "raw", "-O", format, raw, path}));
  return path;
}

Result<void> bench_conversion(const ConvertSettings& settings, const Conversion& conversion) {
  CELLA_TRY_ASSIGN(source, source_image(settings, conversion.from));
  const std::string ours_path = settings.dir + "/cella-out." + conversion.to;
  const std::string theirs_path = settings.dir + "/qemu-out." + conversion.to;
  double ours = 1e30;
  double theirs = 1e30;
  for (int run = 0; run < settings.runs; ++run) {
    remove_file(ours_path);
    remove_file(theirs_path);
    CELLA_TRY_ASSIGN(cella_time,
                     time_run({settings.cella_binary, "img", "convert", "-f", conversion.from, "-O",
                               conversion.to, source, ours_path}));
    CELLA_TRY_ASSIGN(qemu_time,
                     time_run({"qemu-img", "convert", "-t", "writeback", "-T", "writeback", "-f",
                               conversion.from, "-O", conversion.to, source, theirs_path}));
    ours = std::min(ours, cella_time);
    theirs = std::min(theirs, qemu_time);
  }
  // Not timed: the conversion must be right for its time to mean anything.
  CELLA_TRY(run_checked({"qemu-img", "compare", "-q", "-f", conversion.from, "-F", conversion.to,
                         source, ours_path}));
  const double gib = static_cast<double>(settings.image_size) / static_cast<double>(1ull << 30);
  fmt::print("{:>5} -> {:<5} {:>10.2f} {:>12.2f} {:>8.2f}   ({:.1f} GiB/s of virtual disk)\n",
             conversion.from, conversion.to, ours, theirs, theirs / ours, gib / ours);
  remove_file(ours_path);
  remove_file(theirs_path);
  if (std::string(conversion.from) != "raw") remove_file(source);
  return ok();
}

}  // namespace

Result<void> run_convert_bench(const ConvertSettings& settings) {
  fmt::print(
      "\nconvert of a {} MiB sparse image holding {} MiB of data in 1 MiB runs (best of {}; "
      "both tools as processes, writeback cache, target flushed at the end)\n\n",
      settings.image_size / kMiB, settings.data_bytes / kMiB, settings.runs);
  fmt::print("{:<14} {:>10} {:>12} {:>8}\n", "conversion", "cella s", "qemu-img s", "ratio");
  CELLA_TRY(
      write_random_raw(settings.dir + "/sparse.raw", settings.image_size, settings.data_bytes));
  for (const Conversion& conversion : kConversions) {
    if (!cella_has_format(conversion.from) || !cella_has_format(conversion.to)) {
      fmt::print("{:>5} -> {:<5} (no Cella driver for a format in this build: skipped)\n",
                 conversion.from, conversion.to);
      continue;
    }
    CELLA_TRY(bench_conversion(settings, conversion));
  }
  remove_file(settings.dir + "/sparse.raw");
  return ok();
}

}  // namespace cella::bench
