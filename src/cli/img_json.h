// JSON output shaped like qemu-img's, so that scripts written for it port.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "block/block_image.h"

namespace cella::cli {

using Json = nlohmann::ordered_json;

// A format-specific info value as qemu-img types it: true/false as booleans, decimal integers
// as numbers, anything else as a string.
Json typed_value(const std::string& value);

// Prints a value with qemu-img's layout (4-space indentation) and a newline.
void print_json(const Json& value);

}  // namespace cella::cli
