#include "cli/img_args.h"

#include <array>
#include <cctype>
#include <climits>

namespace cella::cli {

namespace {

struct Suffix {
  char letter;
  unsigned shift;
};
constexpr std::array<Suffix, 7> kSuffixes = {
    {{'b', 0}, {'k', 10}, {'m', 20}, {'g', 30}, {'t', 40}, {'p', 50}, {'e', 60}}};

Error size_error(std::string_view text) {
  return make_error(
      "invalid size '{}': use a number of bytes, optionally with a fraction and a suffix k, M, "
      "G, T, P or E (powers of 1024)",
      text);
}

bool is_digit(char c) {
  return std::isdigit(static_cast<unsigned char>(c)) != 0;
}

Result<uint64_t> parse_hex(std::string_view text, std::string_view digits) {
  if (digits.empty() || digits.size() > 16) return size_error(text);
  uint64_t value = 0;
  for (char c : digits) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return size_error(text);
    value = value * 16 + static_cast<uint64_t>(is_digit(c) ? c - '0' : std::tolower(c) - 'a' + 10);
  }
  if (value > uint64_t{INT64_MAX}) return make_error("size '{}' is too large", text);
  return value;
}

}  // namespace

Result<uint64_t> parse_size(std::string_view text) {
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    return parse_hex(text, text.substr(2));
  }
  size_t at = 0;
  unsigned __int128 whole = 0;
  while (at < text.size() && is_digit(text[at])) {
    whole = whole * 10 + static_cast<unsigned>(text[at++] - '0');
    if (whole > uint64_t{INT64_MAX}) return make_error("size '{}' is too large", text);
  }
  if (at == 0) return size_error(text);
  unsigned __int128 fraction = 0;
  unsigned __int128 scale = 1;
  if (at < text.size() && text[at] == '.') {
    ++at;
    const size_t first = at;
    while (at < text.size() && is_digit(text[at])) {
      if (scale > uint64_t{1} << 62) return size_error(text);  // more digits than can matter
      fraction = fraction * 10 + static_cast<unsigned>(text[at++] - '0');
      scale *= 10;
    }
    if (at == first) return size_error(text);
  }
  unsigned shift = 0;
  if (at < text.size()) {
    const char letter = static_cast<char>(std::tolower(static_cast<unsigned char>(text[at])));
    const Suffix* suffix = nullptr;
    for (const Suffix& candidate : kSuffixes) {
      if (candidate.letter == letter) suffix = &candidate;
    }
    if (suffix == nullptr || at + 1 != text.size()) return size_error(text);
    shift = suffix->shift;
  }
  const unsigned __int128 multiplier = static_cast<unsigned __int128>(1) << shift;
  const unsigned __int128 fraction_bytes = fraction * multiplier;
  if (fraction_bytes % scale != 0) {
    return make_error("invalid size '{}': not a whole number of bytes", text);
  }
  const unsigned __int128 bytes = whole * multiplier + fraction_bytes / scale;
  if (bytes > uint64_t{INT64_MAX}) return make_error("size '{}' is too large", text);
  return static_cast<uint64_t>(bytes);
}

Result<SizeChange> parse_size_change(std::string_view text) {
  SizeChange change;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    change.kind = text[0] == '+' ? SizeChange::Kind::kGrow : SizeChange::Kind::kShrink;
    text.remove_prefix(1);
  }
  CELLA_TRY_ASSIGN(amount, parse_size(text));
  change.amount = amount;
  return change;
}

Result<uint64_t> apply_size_change(const SizeChange& change, uint64_t current) {
  switch (change.kind) {
    case SizeChange::Kind::kAbsolute:
      return change.amount;
    case SizeChange::Kind::kGrow:
      if (change.amount > uint64_t{INT64_MAX} - current) {
        return make_error("the new size would be too large");
      }
      return current + change.amount;
    case SizeChange::Kind::kShrink:
      if (change.amount > current) {
        return make_error("cannot shrink by {} bytes: the image has only {}", change.amount,
                          current);
      }
      return current - change.amount;
  }
  return make_error("unknown size change");
}

Result<std::map<std::string, std::string>> parse_key_values(const std::vector<std::string>& lists,
                                                            bool* help) {
  std::map<std::string, std::string> values;
  for (const std::string& list : lists) {
    std::vector<std::string> items(1);
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i] != ',') {
        items.back() += list[i];
      } else if (i + 1 < list.size() && list[i + 1] == ',') {
        items.back() += ',';  // ",," is a literal comma
        ++i;
      } else {
        items.emplace_back();
      }
    }
    for (const std::string& item : items) {
      if (item == "help" || item == "?") {
        if (help != nullptr) *help = true;
        continue;
      }
      const size_t equals = item.find('=');
      const std::string key = item.substr(0, equals);
      if (key.empty()) return make_error("invalid option '{}' in '-o {}': no key", item, list);
      values[key] = equals == std::string::npos ? "on" : item.substr(equals + 1);
    }
  }
  return values;
}

Result<void> check_cache_mode(std::string_view mode) {
  static constexpr std::array<std::string_view, 5> kModes = {"none", "writeback", "writethrough",
                                                             "directsync", "unsafe"};
  for (std::string_view known : kModes) {
    if (mode == known) return ok();
  }
  return make_error("invalid cache mode '{}' (none, writeback, writethrough, directsync, unsafe)",
                    mode);
}

}  // namespace cella::cli
