// The formats and variants the interoperability tests run against qemu-img, one line each.
// A line is tested once a Cella driver of that name is registered (format_registry.cc), so
// a format is covered as soon as its driver lands; its flags say what is compared with
// qemu-img. A driver's author turns a flag on as the driver gains the feature.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
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
  // Unwritten and all-zero data takes no space: converted images are sparse (not so for
  // variants that allocate every block, such as static VDI).
  bool sparse;
  // qemu-img's driver has no differencing images of this format, so its map shows free
  // blocks as present zeros where Cella's shows them unallocated (MapAgreesWithQemu allows it).
  bool qemu_maps_free_as_zero;
};

// Every variant of a format qemu-img creates. qemu-img check has no VHD check; qemu-img
// writes neither VHD/VHDX nor VDI differencing images (those are tested against
// specification fixtures by their drivers' own tests).
inline const std::vector<FormatCase>& all_format_cases() {
  static const std::vector<FormatCase> cases = {
      // name, qemu, -o, backing, compressed, check, map, resize, sparse, free as zero
      {"raw", "raw", "", false, false, false, true, true, true, false},
      {"qcow2", "qcow2", "compat=1.1", true, true, true, true, true, true, false},
      {"qcow2", "qcow2", "compat=0.10", true, true, true, true, true, true, false},
      // force_size: the exact sizes these tests use (without it both tools round a size up to
      // a CHS geometry). block_size=1M: the default for small VHDX disks is one block of the
      // whole disk, which leaves nothing sparse. Fixed VHD and VHDX are tested by
      // vhd_interop_test.cc and vhdx_interop_test.cc: a fixed VHD has no header to probe (for
      // qemu-img either), and a fixed VHDX allocates every block, so a converted image is
      // never sparse.
      {"vhd", "vpc", "subformat=dynamic,force_size=on", false, false, false, false, false, true,
       true},
      {"vhdx", "vhdx", "subformat=dynamic,block_size=1M", false, false, true, false, false, true,
       false},
      {"vmdk", "vmdk", "subformat=monolithicSparse", true, false, true, true, false, true, false},
      // monolithicFlat: qemu-img maps the holes of a flat extent as data that reads zeros (data and
      // zero both true, with an offset), a combination Cella's map has no kind for: its map
      // says zero there, as for raw files.
      {"vmdk", "vmdk", "subformat=monolithicFlat", false, false, true, false, false, true, false},
      {"vmdk", "vmdk", "subformat=streamOptimized", false, true, true, true, false, true, false},
      {"vdi", "vdi", "static=off", false, false, true, true, false, true, true},
      // Static VDI: as for flat VMDK, qemu-img maps the host file's holes in the data as data
      // and zero together.
      {"vdi", "vdi", "static=on", false, false, true, false, false, false, true},
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

// Variants whose clusters are written once, in order (VMDK streamOptimized): neither qemu-io
// nor Cella rewrites them in place, and they are compressed, so their disk use says nothing
// about allocation.
inline bool appends_only(const FormatCase& c) {
  return std::string_view(c.qemu_options).find("streamOptimized") != std::string_view::npos;
}

// Variants whose data lies in a preallocated flat file (VMDK monolithicFlat): qemu-img map
// reports all of it as data, holes of the file included.
inline bool flat_extents(const FormatCase& c) {
  return std::string_view(c.qemu_options).find("Flat") != std::string_view::npos;
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
