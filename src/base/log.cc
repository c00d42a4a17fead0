#include "base/log.h"

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace cella::log {

namespace {

Level parse_level(const char* text) {
  if (text == nullptr) return Level::kWarn;
  std::string_view value(text);
  if (value == "error") return Level::kError;
  if (value == "info") return Level::kInfo;
  if (value == "debug") return Level::kDebug;
  return Level::kWarn;
}

constexpr const char* kLevelNames[] = {"error", "warning", "info", "debug"};

}  // namespace

Level threshold() {
  static const Level level = parse_level(std::getenv("CELLA_LOG"));
  return level;
}

void write(Level level, std::string_view message) {
  fmt::print(stderr, "cella: {}: {}\n", kLevelNames[static_cast<int>(level)], message);
}

}  // namespace cella::log
