#include "cli/img_json.h"

#include <fmt/format.h>

#include <charconv>

namespace cella::cli {

Json typed_value(const std::string& value) {
  if (value == "true") return true;
  if (value == "false") return false;
  if (!value.empty() && value.size() < 20 &&
      value.find_first_not_of("0123456789") == std::string::npos) {
    uint64_t number = 0;
    std::from_chars(value.data(), value.data() + value.size(), number);
    return number;
  }
  return value;
}

void print_json(const Json& value) {
  fmt::print("{}\n", value.dump(4));
}

}  // namespace cella::cli
