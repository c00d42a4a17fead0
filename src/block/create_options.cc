#include "block/create_options.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace cella::block {

namespace {

struct Suffix {
  char letter;
  unsigned shift;
};

constexpr Suffix kSuffixes[] = {{'b', 0},  {'k', 10}, {'m', 20}, {'g', 30},
                                {'t', 40}, {'p', 50}, {'e', 60}};

}  // namespace

Result<uint64_t> parse_size(std::string_view text) {
  if (text.empty()) return make_error("empty size");
  size_t digits = 0;
  while (digits < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) {
    ++digits;
  }
  if (digits == 0) return make_error("size '{}' does not start with a number", text);
  const std::string number(text.substr(0, digits));
  std::string_view rest = text.substr(digits);
  unsigned shift = 0;
  if (!rest.empty()) {
    const char letter = static_cast<char>(std::tolower(static_cast<unsigned char>(rest[0])));
    bool known = false;
    for (const Suffix& suffix : kSuffixes) {
      if (suffix.letter == letter) {
        shift = suffix.shift;
        known = true;
      }
    }
    // Accept "K", "KiB", "KB" alike (binary multiples, as qemu-img).
    const std::string_view tail = rest.substr(1);
    if (!known || !(tail.empty() || tail == "iB" || tail == "B" || tail == "ib")) {
      return make_error("size '{}' has an unknown suffix '{}' (use k, M, G, T, P or E)", text,
                        rest);
    }
  }
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || !std::isfinite(value) || value < 0) {
    return make_error("size '{}' is not a number", text);
  }
  const double bytes = std::ldexp(value, static_cast<int>(shift));
  if (bytes >= 18446744073709551616.0) return make_error("size '{}' is too large", text);
  if (bytes != std::floor(bytes))
    return make_error("size '{}' is not a whole number of bytes", text);
  return static_cast<uint64_t>(bytes);
}

Result<bool> parse_switch(std::string_view text) {
  if (text == "on" || text == "true" || text == "yes" || text == "1") return true;
  if (text == "off" || text == "false" || text == "no" || text == "0") return false;
  return make_error("'{}' is not on or off", text);
}

std::optional<std::string> find_option(const CreateOptions& options, const std::string& key) {
  auto it = options.options.find(key);
  if (it == options.options.end()) return std::nullopt;
  return it->second;
}

Result<std::optional<uint64_t>> size_option(const CreateOptions& options, const std::string& key) {
  auto text = find_option(options, key);
  if (!text) return std::optional<uint64_t>();
  auto value = parse_size(*text);
  if (!value) return value.error().context(key);
  return std::optional<uint64_t>(*value);
}

Result<std::optional<bool>> switch_option(const CreateOptions& options, const std::string& key) {
  auto text = find_option(options, key);
  if (!text) return std::optional<bool>();
  auto value = parse_switch(*text);
  if (!value) return value.error().context(key);
  return std::optional<bool>(*value);
}

}  // namespace cella::block
