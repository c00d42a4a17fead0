#include "block/vmdk/descriptor.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <random>

namespace cella::block::vmdk {

namespace {

// "Extent Descriptions": the access keywords and extent types, as spelled in descriptors.
constexpr std::array<std::pair<std::string_view, ExtentAccess>, 3> kAccessNames = {{
    {"RW", ExtentAccess::kReadWrite},
    {"RDONLY", ExtentAccess::kReadOnly},
    {"NOACCESS", ExtentAccess::kNoAccess},
}};
constexpr std::array<std::pair<std::string_view, ExtentType>, 7> kTypeNames = {{
    {"SPARSE", ExtentType::kSparse},
    {"FLAT", ExtentType::kFlat},
    {"ZERO", ExtentType::kZero},
    {"VMFS", ExtentType::kVmfs},
    {"VMFSSPARSE", ExtentType::kVmfsSparse},
    {"VMFSRDM", ExtentType::kVmfsRdm},
    {"VMFSRAW", ExtentType::kVmfsRaw},
}};

template <class Table, class Value>
std::string_view name_of(const Table& table, Value value) {
  for (const auto& [name, entry] : table) {
    if (entry == value) return name;
  }
  return "?";
}

template <class Table>
auto lookup(const Table& table, std::string_view name) -> std::optional<decltype(table[0].second)> {
  for (const auto& [entry_name, entry] : table) {
    if (entry_name == name) return entry;
  }
  return std::nullopt;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

Result<uint64_t> parse_decimal(std::string_view text, uint64_t max, std::string_view what) {
  if (text.empty()) return make_error("missing {}", what);
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return make_error("{} '{}' is not a decimal number", what, text);
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (max - digit) / 10) return make_error("{} '{}' is too large", what, text);
    value = value * 10 + digit;
  }
  return value;
}

// "Header": CID and parentCID are 32-bit values written as hexadecimal.
Result<uint32_t> parse_cid(std::string_view text, std::string_view what) {
  if (text.empty() || text.size() > 8)
    return make_error("{} '{}' is not a 32-bit hex value", what, text);
  uint32_t value = 0;
  for (char c : text) {
    uint32_t digit;
    if (c >= '0' && c <= '9')
      digit = static_cast<uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f')
      digit = static_cast<uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      digit = static_cast<uint32_t>(c - 'A' + 10);
    else
      return make_error("{} '{}' is not a 32-bit hex value", what, text);
    value = value << 4 | digit;
  }
  return value;
}

// Splits the next token off `rest`: a "quoted string" or a run of non-space characters.
Result<std::string> next_token(std::string_view& rest, bool& quoted) {
  rest = trim(rest);
  quoted = !rest.empty() && rest.front() == '"';
  if (quoted) {
    const size_t end = rest.find('"', 1);
    if (end == std::string_view::npos) return make_error("unterminated string");
    std::string token(rest.substr(1, end - 1));
    rest.remove_prefix(end + 1);
    return token;
  }
  size_t end = 0;
  while (end < rest.size() && !is_space(rest[end])) ++end;
  std::string token(rest.substr(0, end));
  rest.remove_prefix(end);
  return token;
}

// RW 2048 SPARSE "name.vmdk" / RW 2048 FLAT "name-flat.vmdk" 0 / RW 2048 ZERO
Result<ExtentLine> parse_extent_line(std::string_view line) {
  ExtentLine extent;
  bool quoted = false;
  CELLA_TRY_ASSIGN(access, next_token(line, quoted));
  extent.access = *lookup(kAccessNames, access);
  CELLA_TRY_ASSIGN(size, next_token(line, quoted));
  CELLA_TRY_ASSIGN(sectors, parse_decimal(size, kMaxDiskSectors, "extent size"));
  extent.sectors = sectors;
  CELLA_TRY_ASSIGN(type, next_token(line, quoted));
  auto kind = lookup(kTypeNames, type);
  if (!kind) return make_error("unknown extent type '{}'", type);
  extent.type = *kind;
  if (extent.type != ExtentType::kZero) {
    CELLA_TRY_ASSIGN(name, next_token(line, quoted));
    if (!quoted) return make_error("the extent file name must be a quoted string");
    if (name.empty()) return make_error("empty extent file name");
    if (name.find('\0') != std::string::npos) return make_error("extent file name contains NUL");
    extent.file_name = std::move(name);
    CELLA_TRY_ASSIGN(offset, next_token(line, quoted));
    if (!offset.empty()) {
      CELLA_TRY_ASSIGN(sectors_in, parse_decimal(offset, kMaxDiskSectors, "extent offset"));
      extent.offset_sectors = sectors_in;
    }
  }
  if (!trim(line).empty()) return make_error("unexpected '{}' after the extent", trim(line));
  return extent;
}

Result<std::pair<std::string, std::string>> parse_key_line(std::string_view line) {
  const size_t equals = line.find('=');
  std::string_view key = trim(line.substr(0, equals));
  if (key.empty()) return make_error("missing key before '='");
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return make_error("invalid key '{}'", key);
  }
  std::string_view rest = line.substr(equals + 1);
  bool quoted = false;
  std::string value;
  if (!trim(rest).empty() && trim(rest).front() == '"') {
    CELLA_TRY_ASSIGN(token, next_token(rest, quoted));
    if (!trim(rest).empty()) return make_error("unexpected '{}' after the value", trim(rest));
    value = std::move(token);
  } else {
    value = std::string(trim(rest));
  }
  return std::pair{std::string(key), std::move(value)};
}

Result<void> apply_header_key(Descriptor& descriptor, std::string_view key,
                              std::string_view value) {
  if (key == "version") {
    // "Header": version 1; later products write 2 and 3 with the same layout.
    CELLA_TRY_ASSIGN(version, parse_decimal(value, 1000, "version"));
    if (version < 1 || version > 3) return make_error("unsupported descriptor version {}", version);
    descriptor.version = static_cast<uint32_t>(version);
  } else if (key == "CID") {
    CELLA_TRY_ASSIGN(cid, parse_cid(value, "CID"));
    descriptor.cid = cid;
  } else if (key == "parentCID") {
    CELLA_TRY_ASSIGN(cid, parse_cid(value, "parentCID"));
    descriptor.parent_cid = cid;
  } else if (key == "createType") {
    descriptor.create_type = value;
  } else if (key == "parentFileNameHint") {
    descriptor.parent_file_name_hint = value;
  }
  return ok();
}

}  // namespace

std::optional<std::string> Descriptor::value(std::string_view key) const {
  for (const auto& [entry_key, entry_value] : keys) {
    if (entry_key == key) return entry_value;
  }
  return std::nullopt;
}

uint64_t Descriptor::total_sectors() const {
  uint64_t total = 0;
  for (const ExtentLine& extent : extents) total += extent.sectors;
  return total;
}

Result<Descriptor> parse_descriptor(std::string_view text) {
  if (text.size() > kMaxDescriptorBytes) {
    return make_error("descriptor of {} bytes is larger than the {} bytes allowed", text.size(),
                      kMaxDescriptorBytes);
  }
  // An embedded descriptor is padded with NULs after its text.
  text = text.substr(0, std::min(text.size(), text.find('\0')));
  Descriptor descriptor;
  bool have_version = false;
  uint64_t total_sectors = 0;
  size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const size_t newline = text.find('\n');
    std::string_view line = trim(text.substr(0, newline));
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (line.empty() || line.front() == '#') continue;
    const size_t first_space = line.find_first_of(" \t");
    if (lookup(kAccessNames, line.substr(0, first_space))) {
      if (descriptor.extents.size() == kMaxExtents) {
        return make_error("descriptor line {}: more than {} extents", line_number, kMaxExtents);
      }
      auto extent = parse_extent_line(line);
      if (!extent) return extent.error().context(fmt::format("descriptor line {}", line_number));
      total_sectors += extent->sectors;
      descriptor.extents.push_back(std::move(*extent));
      if (total_sectors > kMaxDiskSectors) {
        return make_error("descriptor line {}: the extents add up to more than {} sectors",
                          line_number, kMaxDiskSectors);
      }
      continue;
    }
    if (line.find('=') == std::string_view::npos) {
      return make_error("descriptor line {}: '{}' is neither a key = value line nor an extent",
                        line_number, line.substr(0, 80));
    }
    auto entry = parse_key_line(line);
    if (!entry) return entry.error().context(fmt::format("descriptor line {}", line_number));
    auto applied = apply_header_key(descriptor, entry->first, entry->second);
    if (!applied) return applied.error().context(fmt::format("descriptor line {}", line_number));
    have_version |= entry->first == "version";
    descriptor.keys.push_back(std::move(*entry));
  }
  if (!have_version) return make_error("descriptor has no 'version' line");
  return descriptor;
}

std::string format_descriptor(const NewDescriptor& descriptor) {
  // "The Descriptor File": header, extent descriptions, disk database, in this order.
  std::string text = "# Disk DescriptorFile\nversion=1\n";
  text += fmt::format("CID={}\nparentCID={}\ncreateType=\"{}\"\n", format_cid(descriptor.cid),
                      format_cid(descriptor.parent_cid), descriptor.create_type);
  if (!descriptor.parent_file_name_hint.empty()) {
    text += fmt::format("parentFileNameHint=\"{}\"\n", descriptor.parent_file_name_hint);
  }
  text += "\n# Extent description\n";
  for (const ExtentLine& extent : descriptor.extents) {
    text += fmt::format("{} {} {}", access_name(extent.access), extent.sectors,
                        extent_type_name(extent.type));
    if (extent.type != ExtentType::kZero) text += fmt::format(" \"{}\"", extent.file_name);
    if (extent.type == ExtentType::kFlat || extent.type == ExtentType::kVmfs) {
      text += fmt::format(" {}", extent.offset_sectors);
    }
    text += "\n";
  }
  text += "\n# The Disk Data Base\n#DDB\n\n";
  for (const auto& [key, value] : descriptor.ddb) {
    text += fmt::format("ddb.{} = \"{}\"\n", key, value);
  }
  return text;
}

std::string replace_key(std::string_view text, std::string_view key, std::string_view value) {
  std::string out;
  out.reserve(text.size() + key.size() + value.size() + 2);
  bool replaced = false;
  size_t version_end = std::string_view::npos;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t newline = text.find('\n', pos);
    const size_t end = newline == std::string_view::npos ? text.size() : newline + 1;
    std::string_view line = text.substr(pos, end - pos);
    const size_t equals = line.find('=');
    std::string_view line_key =
        equals == std::string_view::npos ? std::string_view() : trim(line.substr(0, equals));
    if (!replaced && line_key == key && line.front() != '#') {
      out += fmt::format("{}={}\n", key, value);
      replaced = true;
    } else {
      out += line;
      if (line_key == "version") version_end = out.size();
    }
    pos = end;
  }
  if (!replaced) {
    const std::string line = fmt::format("{}={}\n", key, value);
    if (version_end != std::string_view::npos) {
      out.insert(version_end, out[version_end - 1] == '\n' ? line : "\n" + line);
    } else {
      if (!out.empty() && out.back() != '\n') out += '\n';
      out += line;
    }
  }
  return out;
}

std::string remove_key(std::string_view text, std::string_view key) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t newline = text.find('\n', pos);
    const size_t end = newline == std::string_view::npos ? text.size() : newline + 1;
    const std::string_view line = text.substr(pos, end - pos);
    const size_t equals = line.find('=');
    const bool match = equals != std::string_view::npos && line.front() != '#' &&
                       trim(line.substr(0, equals)) == key;
    if (!match) out += line;
    pos = end;
  }
  return out;
}

std::string_view access_name(ExtentAccess access) {
  return name_of(kAccessNames, access);
}
std::string_view extent_type_name(ExtentType type) {
  return name_of(kTypeNames, type);
}
std::string format_cid(uint32_t cid) {
  return fmt::format("{:08x}", cid);
}

uint32_t new_cid(uint32_t old) {
  static std::mt19937 generator{std::random_device{}()};
  uint32_t cid;
  do cid = static_cast<uint32_t>(generator());
  while (cid == old || cid == kNoParentCid);
  return cid;
}

}  // namespace cella::block::vmdk
