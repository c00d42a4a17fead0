// Running the real peer (qemu-img, qemu-io from Debian's qemu-utils) from interoperability tests,
// and comparing allocation maps with `qemu-img map --output json`.
#pragma once

#include <gtest/gtest.h>
#include <algorithm>
#include <cstdint>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/process.h"
#include "block/block_image.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_data.h"

namespace cella::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs a shell command line (qemu-img with quoted file names), through base/process.h.
inline CommandResult run_command(const std::string& command) {
  auto result = run_process({"/bin/sh", "-c", command});
  if (!result) return CommandResult{-1, result.error().message()};
  return CommandResult{result->exit_code, result->out + result->err};
}

inline std::string quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

inline bool qemu_tools_available() {
  static const bool available = run_command("qemu-img --version").exit_code == 0 &&
                                run_command("qemu-io --version").exit_code == 0;
  return available;
}

// Skips the current test when qemu-img/qemu-io are missing (scripts/setup installs them).
#define CELLA_REQUIRE_QEMU()                                                \
  do {                                                                      \
    if (!::cella::testing::qemu_tools_available()) {                        \
      GTEST_SKIP() << "qemu-img/qemu-io not installed (run scripts/setup)"; \
    }                                                                       \
  } while (0)

// The guest content of an image as qemu sees it (converted to raw).
inline std::optional<std::vector<uint8_t>> qemu_content(const TempDir& dir,
                                                        const std::string& image,
                                                        const std::string& format) {
  const std::string raw = dir.file("qemu-content.raw");
  auto result = run_command("qemu-img convert -U -f " + format + " -O raw " + quote(image) + " " +
                            quote(raw));
  if (result.exit_code != 0) return std::nullopt;
  auto data = read_whole_file(raw);
  std::filesystem::remove(raw);
  return data;
}

// One extent as `qemu-img map --output json` prints it.
struct MapRecord {
  uint64_t start = 0;
  uint64_t length = 0;
  int depth = 0;
  bool present = false;
  bool data = false;
  std::optional<uint64_t> offset;

  bool operator==(const MapRecord&) const = default;
};

// Merges adjacent records that say the same thing (qemu and Cella split at different places).
inline std::vector<MapRecord> normalize(std::vector<MapRecord> records) {
  std::vector<MapRecord> out;
  for (MapRecord& r : records) {
    if (!out.empty()) {
      MapRecord& last = out.back();
      const bool offsets_continue =
          (!last.offset && !r.offset) ||
          (last.offset && r.offset && *last.offset + last.length == *r.offset);
      if (last.start + last.length == r.start && last.depth == r.depth &&
          last.present == r.present && last.data == r.data && offsets_continue) {
        last.length += r.length;
        continue;
      }
    }
    out.push_back(r);
  }
  return out;
}

inline std::optional<std::vector<MapRecord>> qemu_map(const std::string& image,
                                                      const std::string& format) {
  auto result = run_command("qemu-img map -U --output json -f " + format + " " + quote(image));
  if (result.exit_code != 0) {
    ADD_FAILURE() << "qemu-img map failed: " << result.output;
    return std::nullopt;
  }
  std::vector<MapRecord> records;
  for (const auto& e : nlohmann::json::parse(result.output)) {
    MapRecord r;
    r.start = e["start"];
    r.length = e["length"];
    r.depth = e["depth"];
    r.present = e["present"];
    r.data = e["data"];
    if (e.contains("offset")) r.offset = e["offset"].get<uint64_t>();
    records.push_back(r);
  }
  return normalize(records);
}

// Cella's map in qemu's terms: data extents carry their host offset; zero extents are present
// (with the offset of a preallocated cluster); unallocated ones are not present.
inline std::vector<MapRecord> as_qemu_map(const std::vector<block::Extent>& extents) {
  std::vector<MapRecord> records;
  for (const block::Extent& e : extents) {
    MapRecord r;
    r.start = e.offset;
    r.length = e.length;
    r.depth = e.depth;
    r.present = e.kind != block::ExtentKind::kUnallocated;
    r.data = e.kind == block::ExtentKind::kData;
    if (e.host_offset >= 0) r.offset = static_cast<uint64_t>(e.host_offset);
    records.push_back(r);
  }
  return normalize(records);
}

// The records from the first difference with `other` on (a few of them).
inline std::string describe(const std::vector<MapRecord>& records,
                            const std::vector<MapRecord>& other = {}) {
  size_t first = 0;
  while (first < records.size() && first < other.size() && records[first] == other[first]) ++first;
  std::string out = first > 0 ? "(" + std::to_string(first) + " equal records)\n" : "";
  for (size_t i = first; i < records.size() && i < first + 5; ++i) {
    const MapRecord& r = records[i];
    out += "{start " + std::to_string(r.start) + " length " + std::to_string(r.length) + " depth " +
           std::to_string(r.depth) + (r.present ? " present" : "") + (r.data ? " data" : "") +
           (r.offset ? " offset " + std::to_string(*r.offset) : "") + "}\n";
  }
  return out;
}

}  // namespace cella::testing
