#include "cli/disk_spec.h"

#include <set>
#include <string>
#include <vector>

#include "block/format_registry.h"
#include "block/option_values.h"

namespace cella::cli {
namespace {

constexpr size_t kMaxSerialBytes = 20;

// Splits at single commas; ",," stands for a literal comma.
std::vector<std::string> split_fields(std::string_view spec) {
  std::vector<std::string> fields(1);
  for (size_t i = 0; i < spec.size(); ++i) {
    if (spec[i] != ',') {
      fields.back() += spec[i];
    } else if (i + 1 < spec.size() && spec[i + 1] == ',') {
      fields.back() += ',';
      ++i;
    } else {
      fields.emplace_back();
    }
  }
  return fields;
}

}  // namespace

Result<machine::DiskConfig> parse_disk_spec(std::string_view spec) {
  const std::vector<std::string> fields = split_fields(spec);
  machine::DiskConfig disk;
  disk.path = fields.front();
  if (disk.path.empty()) {
    return make_error("--disk '{}': expected PATH[,format=FMT][,readonly=on][,serial=ID]", spec);
  }
  std::set<std::string> seen;
  for (size_t i = 1; i < fields.size(); ++i) {
    const std::string& field = fields[i];
    const size_t equals = field.find('=');
    if (equals == std::string::npos) {
      return make_error("--disk '{}': '{}' is not key=value", spec, field);
    }
    const std::string key = field.substr(0, equals);
    const std::string value = field.substr(equals + 1);
    if (!seen.insert(key).second) return make_error("--disk '{}': '{}' given twice", spec, key);
    if (key == "format") {
      if (block::find_format(value) == nullptr) {
        return make_error("--disk '{}': unknown format '{}' (known: {})", spec, value,
                          block::format_names());
      }
      disk.format = value;
    } else if (key == "readonly") {
      auto read_only = block::parse_bool_value(key, value);
      if (!read_only) return read_only.error().context(fmt::format("--disk '{}'", spec));
      disk.read_only = *read_only;
    } else if (key == "serial") {
      if (value.size() > kMaxSerialBytes) {
        return make_error("--disk '{}': serial '{}' is longer than {} bytes", spec, value,
                          kMaxSerialBytes);
      }
      disk.serial = value;
    } else {
      return make_error("--disk '{}': unknown key '{}' (known: format, readonly, serial)", spec,
                        key);
    }
  }
  return disk;
}

Result<machine::ConsoleDevice> parse_console_device(std::string_view text) {
  if (text == "serial") return machine::ConsoleDevice::kSerial;
  if (text == "virtio") return machine::ConsoleDevice::kVirtio;
  return make_error("--console '{}': expected serial or virtio", text);
}

}  // namespace cella::cli
