#include "block/option_values.h"

#include <algorithm>
#include <cctype>

namespace cella::block {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

Result<uint64_t> parse_size_value(std::string_view key, std::string_view value) {
  static constexpr struct {
    const char* suffix;
    unsigned shift;
  } kSuffixes[] = {{"", 0},    {"b", 0},    {"k", 10}, {"kb", 10}, {"kib", 10}, {"m", 20},
                   {"mb", 20}, {"mib", 20}, {"g", 30}, {"gb", 30}, {"gib", 30}, {"t", 40},
                   {"tb", 40}, {"tib", 40}, {"p", 50}, {"pb", 50}, {"pib", 50}};
  size_t digits = 0;
  uint64_t number = 0;
  while (digits < value.size() && std::isdigit(static_cast<unsigned char>(value[digits]))) {
    const uint64_t digit = static_cast<uint64_t>(value[digits] - '0');
    if (number > (UINT64_MAX - digit) / 10) return make_error("{}: '{}' is too large", key, value);
    number = number * 10 + digit;
    ++digits;
  }
  if (digits == 0) return make_error("{}: '{}' is not a size", key, value);
  const std::string suffix = lower(value.substr(digits));
  for (const auto& entry : kSuffixes) {
    if (suffix != entry.suffix) continue;
    if (entry.shift > 0 && number > (UINT64_MAX >> entry.shift)) {
      return make_error("{}: '{}' is too large", key, value);
    }
    return number << entry.shift;
  }
  return make_error("{}: '{}' is not a size (use a number with k, M, G or T)", key, value);
}

Result<bool> parse_bool_value(std::string_view key, std::string_view value) {
  static constexpr struct {
    const char* text;
    bool value;
  } kWords[] = {{"on", true},   {"true", true},   {"yes", true}, {"1", true},
                {"off", false}, {"false", false}, {"no", false}, {"0", false}};
  const std::string word = lower(value);
  for (const auto& entry : kWords) {
    if (word == entry.text) return entry.value;
  }
  return make_error("{}: '{}' is not on or off", key, value);
}

Result<uint64_t> size_option(const CreateOptions& options, const std::string& key,
                             uint64_t fallback) {
  auto it = options.options.find(key);
  if (it == options.options.end()) return fallback;
  return parse_size_value(key, it->second);
}

Result<bool> bool_option(const CreateOptions& options, const std::string& key, bool fallback) {
  auto it = options.options.find(key);
  if (it == options.options.end()) return fallback;
  return parse_bool_value(key, it->second);
}

std::string string_option(const CreateOptions& options, const std::string& key,
                          const std::string& fallback) {
  auto it = options.options.find(key);
  return it == options.options.end() ? fallback : it->second;
}

}  // namespace cella::block
