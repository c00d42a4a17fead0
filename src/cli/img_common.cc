#include "cli/img_common.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>

#include "cli/img_args.h"

namespace cella::cli {

void add_format_option(CLI::App& command, std::string& format) {
  command.add_option("-f,--format", format, "image format (probed when absent)")->type_name("FMT");
}

void add_output_option(CLI::App& command, OutputFormat& output) {
  add_choice_option<OutputFormat>(command, "--output", output,
                                  {{"human", OutputFormat::kHuman}, {"json", OutputFormat::kJson}},
                                  "output format: human (default) or json");
}

void add_force_share_option(CLI::App& command, bool& force_share) {
  command.add_flag("-U,--force-share", force_share,
                   "open read-only without taking locks (the image may be in use)");
}

void add_quiet_option(CLI::App& command, bool& quiet) {
  command.add_flag("-q,--quiet", quiet, "print nothing but errors");
}

void add_cache_option(CLI::App& command, const std::string& flag, std::string& mode) {
  command
      .add_option(flag, mode,
                  "cache mode, accepted for qemu-img compatibility (copies always go through "
                  "the page cache and are flushed at the end)")
      ->type_name("CACHE")
      ->check([](const std::string& value) -> std::string {
        auto valid = check_cache_mode(value);
        return valid ? std::string() : valid.error().message();
      });
}

void print_error(std::string_view command, const Error& error) {
  std::fflush(stdout);
  fmt::print(stderr, "cella img {}: {}\n", command, error.message());
}

Result<std::unique_ptr<block::BlockImage>> open_for_reading(const std::string& path,
                                                            const std::string& format,
                                                            bool force_share, bool with_backing) {
  block::OpenOptions options;
  options.read_only = true;
  options.force_share = force_share;
  options.format = format;
  options.open_backing = with_backing;
  return block::open_image(path, options);
}

Result<std::string> require_backing_format(const std::string& image_path,
                                           const std::string& backing_file,
                                           const std::string& backing_format) {
  if (!backing_format.empty()) {
    if (block::find_format(backing_format) == nullptr) {
      return make_error("unknown backing format '{}' (known: {})", backing_format,
                        block::format_names());
    }
    return backing_format;
  }
  auto detected = block::detect_format(block::resolve_backing_path(image_path, backing_file));
  if (!detected) {
    return make_error("backing file '{}' given without its format (-F): {}", backing_file,
                      detected.error().message());
  }
  return make_error("backing file '{}' given without its format: it looks like {}; add -F {}",
                    backing_file, *detected, *detected);
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {};
  struct stat sb {};
  if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

void print_create_options(const block::FormatDriver& driver) {
  fmt::print("Supported {} options:\n", driver.name);
  fmt::print("  {:<22} - {}\n", "size=<size>", "virtual disk size");
  fmt::print("  {:<22} - {}\n", "backing_file=<str>", "file name of a backing image");
  fmt::print("  {:<22} - {}\n", "backing_fmt=<str>", "format of the backing image");
  for (const std::string& name : driver.create_option_names) {
    auto help = driver.create_option_help.find(name);
    fmt::print("  {:<22} - {}\n", name + "=<value>",
               help != driver.create_option_help.end() ? help->second : "");
  }
}

uint64_t disk_usage(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

std::string human_size(uint64_t bytes) {
  static constexpr std::array<const char*, 7> kUnits = {"B",   "KiB", "MiB", "GiB",
                                                        "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1000 && unit + 1 < kUnits.size()) {
    value /= 1024;
    ++unit;
  }
  return fmt::format("{:.3g} {}", value, kUnits[unit]);
}

ProgressMeter::ProgressMeter(bool enabled)
    : enabled_(enabled), terminal_(::isatty(STDOUT_FILENO) != 0) {
  update(0, 1);
}

ProgressMeter::~ProgressMeter() {
  // Interrupted by an error: end the line without claiming completion.
  if (enabled_ && !finished_ && terminal_) fmt::print("\n");
}

void ProgressMeter::update(uint64_t done, uint64_t total) {
  if (!enabled_ || finished_) return;
  const int hundredths =
      total == 0 ? 10000 : static_cast<int>(static_cast<double>(done) * 10000.0 / total);
  // A terminal shows every hundredth of a percent in place; a log gets one line per percent.
  const int step = terminal_ ? 1 : 100;
  if (last_shown_ >= 0 && hundredths / step == last_shown_ / step) return;
  last_shown_ = hundredths;
  fmt::print("{}    ({:.2f}/100%){}", terminal_ ? "\r" : "", hundredths / 100.0,
             terminal_ ? "" : "\n");
  std::fflush(stdout);
}

void ProgressMeter::finish() {
  if (!enabled_ || finished_) return;
  update(1, 1);
  finished_ = true;
  if (terminal_) fmt::print("\n");
  std::fflush(stdout);
}

}  // namespace cella::cli
