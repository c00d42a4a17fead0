#include "block/vhd/vhd_parent.h"

#include <algorithm>
#include <filesystem>

#include "base/utf16.h"

namespace cella::block::vhd {

namespace {

namespace fs = std::filesystem;

// How each platform code's data is decoded, in order of preference ([VHD] "Dynamic Disk Header
// Format", Platform Code).
enum class Encoding { kUtf16Le, kAnsi, kFileUrl };
struct LocatorKind {
  PlatformCode code;
  Encoding encoding;
  const char* name;
};
constexpr LocatorKind kLocatorKinds[] = {
    {PlatformCode::kW2ru, Encoding::kUtf16Le, "W2ru"},
    {PlatformCode::kWi2r, Encoding::kAnsi, "Wi2r"},
    {PlatformCode::kW2ku, Encoding::kUtf16Le, "W2ku"},
    {PlatformCode::kWi2k, Encoding::kAnsi, "Wi2k"},
    {PlatformCode::kMacX, Encoding::kFileUrl, "MacX"},
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 2396 file URL ("file://localhost/path" or "file:///path") to a path.
Result<std::string> file_url_to_path(std::string url) {
  static constexpr std::string_view kScheme = "file://";
  if (url.compare(0, kScheme.size(), kScheme) != 0) {
    return make_error("'{}' is not a file:// URL", url);
  }
  std::string rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  if (slash == std::string::npos) return make_error("'{}' has no path", url);
  rest = rest.substr(slash);  // drops the host ("", "localhost")
  std::string path;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '%' && i + 2 < rest.size() && hex_value(rest[i + 1]) >= 0 &&
        hex_value(rest[i + 2]) >= 0) {
      path += static_cast<char>(hex_value(rest[i + 1]) * 16 + hex_value(rest[i + 2]));
      i += 2;
    } else {
      path += rest[i];
    }
  }
  return path;
}

std::string file_url(const std::string& path) {
  static constexpr std::string_view kUnreserved = "-_.!~*'()/";
  std::string url = "file://";
  for (const char c : path) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || kUnreserved.find(c) != std::string_view::npos) {
      url += c;
    } else {
      url += fmt::format("%{:02X}", byte);
    }
  }
  return url;
}

}  // namespace

Result<std::vector<ParentCandidate>> parent_candidates(const DynamicHeader& header,
                                                       const HostFile& child) {
  CELLA_TRY_ASSIGN(file_size, child.size());
  std::vector<ParentCandidate> candidates;
  for (const LocatorKind& kind : kLocatorKinds) {
    for (int i = 0; i < kParentLocatorCount; ++i) {
      const ParentLocator& locator = header.locators[i];
      if (locator.platform_code != static_cast<uint32_t>(kind.code)) continue;
      if (locator.data_length == 0) continue;
      if (locator.data_length > kMaxLocatorBytes) {
        return make_error("parent locator {} ({}) claims {} bytes of data, more than a path", i + 1,
                          kind.name, locator.data_length);
      }
      if (locator.data_offset > file_size ||
          locator.data_length > file_size - locator.data_offset) {
        return make_error("parent locator {} ({}) points beyond the end of the file", i + 1,
                          kind.name);
      }
      std::vector<uint8_t> data(locator.data_length);
      CELLA_TRY(child.read(locator.data_offset, data));
      std::string text;
      if (kind.encoding == Encoding::kUtf16Le) {
        auto decoded = utf16_to_utf8(data, ByteOrder::kLittle);
        if (!decoded) return decoded.error().context(fmt::format("parent locator {}", i + 1));
        text = windows_to_posix(*decoded);
      } else if (kind.encoding == Encoding::kAnsi) {
        text = windows_to_posix(std::string(data.begin(), std::find(data.begin(), data.end(), 0)));
      } else {
        auto path =
            file_url_to_path(std::string(data.begin(), std::find(data.begin(), data.end(), 0)));
        if (!path) return path.error().context(fmt::format("parent locator {}", i + 1));
        text = *path;
      }
      if (text.empty()) continue;
      candidates.push_back(
          {resolve_against(text, child.path()), fmt::format("{} locator", kind.name)});
    }
  }
  auto name = utf16_to_utf8(header.parent_name, ByteOrder::kBig);
  if (!name) return name.error().context("Parent Unicode Name");
  if (!name->empty()) {
    const std::string file = fs::path(windows_to_posix(*name)).filename().string();
    if (!file.empty())
      candidates.push_back({resolve_against(file, child.path()), "Parent Unicode Name"});
  }
  return candidates;
}

Result<std::vector<LocatorData>> make_locators(const std::string& parent_absolute,
                                               const std::string& child_folder) {
  const std::string relative = windows_relative_path(parent_absolute, child_folder);
  CELLA_TRY_ASSIGN(relative_utf16, utf8_to_utf16(relative, ByteOrder::kLittle));
  const std::string url = file_url(parent_absolute);
  return std::vector<LocatorData>{
      {PlatformCode::kW2ru, std::move(relative_utf16)},
      {PlatformCode::kMacX, std::vector<uint8_t>(url.begin(), url.end())},
  };
}

Result<std::array<uint8_t, kParentNameBytes>> make_parent_name(const std::string& parent_absolute) {
  CELLA_TRY_ASSIGN(name,
                   utf8_to_utf16(fs::path(parent_absolute).filename().string(), ByteOrder::kBig));
  if (name.size() > kParentNameBytes - 2) {
    return make_error("parent file name '{}' is longer than the 255 characters VHD allows",
                      fs::path(parent_absolute).filename().string());
  }
  std::array<uint8_t, kParentNameBytes> field{};
  std::copy(name.begin(), name.end(), field.begin());
  return field;
}

}  // namespace cella::block::vhd
