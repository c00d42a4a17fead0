// The formats and variants the interoperability tests run against qemu-img, one line each.
// A line is tested once a Cella driver of that name is registered (format_registry.cc), so
// a format is covered as soon as its driver lands; its flags say what is compared with
// qemu-img. A driver's author turns a flag on as the driver gains the feature.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "block/format_registry.h"

namespace cella::interop {

struct FormatCase {
  const char* name;       // Cella's name
  const char* qemu_name;  // qemu-img's name ("vpc" for VHD)
  // `create -o` for this variant, "" for none: the option names are qemu-img's, so the same
  // string is given to qemu-img and to Cella.
  const char* qemu_options;
  bool backing;           // differencing images: commit, rebase, convert -B
  bool compressed;        // convert -c
  bool qemu_check;        // qemu-img check supports the format (raw: "not supported", 63)
  bool map_matches_qemu;  // `map --output json` is line for line qemu-img's
  bool resize;            // grows (and shrinks with --shrink)
};

// Every variant of a format qemu-img creates. qemu-img check has no VHD check; qemu-img
// writes neither VHD/VHDX nor VDI differencing images (those are tested against
// specification fixtures by their drivers' own tests).
inline const std::vector<FormatCase>& all_format_cases() {
  static const std::vector<FormatCase> cases = {
      // name, qemu, -o, backing, compressed, check, map, resize
      {"raw", "raw", "", false, false, false, true, true},
      {"qcow2", "qcow2", "compat=1.1", true, true, true, true, true},
      {"qcow2", "qcow2", "compat=0.10", true, true, true, true, true},
      {"vhd", "vpc", "subformat=dynamic", false, false, false, false, false},
      {"vhd", "vpc", "subformat=fixed", false, false, false, false, false},
      {"vhdx", "vhdx", "subformat=dynamic", false, false, true, false, false},
      {"vhdx", "vhdx", "subformat=fixed", false, false, true, false, false},
      {"vmdk", "vmdk", "subformat=monolithicSparse", false, false, true, false, false},
      {"vmdk", "vmdk", "subformat=monolithicFlat", false, false, true, false, false},
      {"vmdk", "vmdk", "subformat=streamOptimized", false, true, true, false, false},
      {"vdi", "vdi", "static=off", false, false, true, false, false},
      {"vdi", "vdi", "static=on", false, false, true, false, false},
  };
  return cases;
}

// The lines whose format has a registered driver.
inline const std::vector<FormatCase>& format_cases() {
  static const std::vector<FormatCase> cases = [] {
    std::vector<FormatCase> registered;
    for (const FormatCase& c : all_format_cases()) {
      if (block::find_format(c.name) != nullptr) registered.push_back(c);
    }
    return registered;
  }();
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
