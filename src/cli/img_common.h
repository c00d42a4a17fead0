// Pieces every `cella img` subcommand shares: option helpers, image opening, messages.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "block/block_image.h"
#include "block/format_registry.h"

namespace cella::cli {

// Exit codes shared by the subcommands, as qemu-img's (see docs/cli.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;

enum class OutputFormat { kHuman, kJson };

// Adds an option whose value is one of the names in choices, stored as the name's value.
// Only the names are accepted (CLI11's transformers would also take the values' numbers,
// so that `-r 2` meant `-r all`); anything else is an error listing the names.
template <class T>
CLI::Option* add_choice_option(CLI::App& command, const std::string& flags, T& target,
                               std::vector<std::pair<std::string, T>> choices,
                               const std::string& description) {
  std::vector<std::string> names;
  std::string type_name;
  for (const auto& choice : choices) {
    names.push_back(choice.first);
    type_name += (type_name.empty() ? "" : "|") + choice.first;
  }
  return command
      .add_option_function<std::string>(
          flags,
          [&target, choices = std::move(choices)](const std::string& value) {
            for (const auto& [name, choice] : choices) {
              if (name == value) target = choice;
            }
          },
          description)
      ->check(CLI::IsMember(names))
      ->type_name(type_name);
}

// Adds `-f,--format FMT` (the image's format; probed when absent).
void add_format_option(CLI::App& command, std::string& format);
// Adds `--output human|json`.
void add_output_option(CLI::App& command, OutputFormat& output);
// Adds `-U,--force-share` (open read-only without locks).
void add_force_share_option(CLI::App& command, bool& force_share);
// Adds `-q,--quiet`.
void add_quiet_option(CLI::App& command, bool& quiet);
// Adds `-t CACHE` / `-T SRC_CACHE`, validated, accepted for qemu-img compatibility.
void add_cache_option(CLI::App& command, const std::string& flag, std::string& mode);

// Prints "cella img <command>: <message>" to stderr.
void print_error(std::string_view command, const Error& error);

// Runs body, printing its error (if any) and mapping it to failure_code.
template <class Body>
int run_reporting(std::string_view command, int failure_code, Body&& body) {
  Result<int> result = body();
  if (!result) {
    print_error(command, result.error());
    return failure_code;
  }
  return *result;
}

// Opens an image for reading: probed unless format is set, with its backing chain unless
// with_backing is false, without locks when force_share.
Result<std::unique_ptr<block::BlockImage>> open_for_reading(const std::string& path,
                                                            const std::string& format,
                                                            bool force_share, bool with_backing);

// The backing format to record: the one given, or an error naming the probed one (a backing
// file without an explicit format is how a raw guest disk becomes a qcow2 pointing at host
// files; qemu-img refuses it too).
Result<std::string> require_backing_format(const std::string& image_path,
                                           const std::string& backing_file,
                                           const std::string& backing_format);

// True when both paths name the same existing file (same device and inode).
bool same_file(const std::string& a, const std::string& b);

// Prints the `-o help` list of a format's create options.
void print_create_options(const block::FormatDriver& driver);

// Host disk space used by a file (st_blocks), 0 if it cannot be read.
uint64_t disk_usage(const std::string& path);

// "10 MiB", "1.5 GiB", "324 KiB", "512 B": three significant digits, binary units.
std::string human_size(uint64_t bytes);

// `-p`: "    (42.00/100%)" on stdout, rewritten in place on a terminal, one line per percent
// otherwise.
class ProgressMeter {
 public:
  explicit ProgressMeter(bool enabled);
  ~ProgressMeter();
  void update(uint64_t done, uint64_t total);
  void finish();

 private:
  bool enabled_;
  bool terminal_;
  bool finished_ = false;
  int last_shown_ = -1;  // hundredths of a percent
};

}  // namespace cella::cli
