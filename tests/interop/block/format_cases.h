// The formats the interoperability tests run against qemu-img, one line each. A format is
// listed once its Cella driver is on main; its flags say what qemu-img can do with it.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace cella::interop {

struct FormatCase {
  const char* name;          // Cella's name
  const char* qemu_name;     // qemu-img's name ("vpc" for VHD)
  const char* qemu_options;  // `qemu-img create -o` for this variant, "" for none
  bool backing;              // differencing images: commit, rebase, convert -B
  bool compressed;           // convert -c
  bool qemu_check;           // qemu-img check supports the format (raw: "not supported", 63)
  bool map_matches_qemu;     // `map --output json` is line for line qemu-img's
  bool resize;               // grows (and shrinks with --shrink)
};

inline const std::vector<FormatCase>& format_cases() {
  static const std::vector<FormatCase> cases = {
      // name, qemu, -o, backing, compressed, check, map, resize
      {"raw", "raw", "", false, false, false, true, true},
  };
  return cases;
}

// The cases with differencing images.
inline std::vector<FormatCase> backing_format_cases() {
  std::vector<FormatCase> cases;
  for (const FormatCase& c : format_cases()) {
    if (c.backing) cases.push_back(c);
  }
  return cases;
}

inline std::ostream& operator<<(std::ostream& out, const FormatCase& c) {
  return out << c.name << (*c.qemu_options != 0 ? std::string(" ") + c.qemu_options : "");
}

// GoogleTest parameter names: "raw", "vmdk_streamOptimized".
inline std::string case_name(const FormatCase& c) {
  std::string name = c.name;
  if (*c.qemu_options != 0) name += '_';
  for (const char* p = c.qemu_options; *p != 0; ++p) {
    name +=
        (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ? *p : '_';
  }
  return name;
}

}  // namespace cella::interop
