#include "cpu/x86/state_dump.h"

#include <fmt/format.h>

namespace cella::x86 {
namespace {

constexpr const char* kGprNames[kGprCount] = {"RAX", "RCX", "RDX", "RBX", "RSP", "RBP",
                                              "RSI", "RDI", "R8",  "R9",  "R10", "R11",
                                              "R12", "R13", "R14", "R15"};
constexpr const char* kSegmentNames[kSegmentCount] = {"ES", "CS", "SS", "DS", "FS", "GS"};

void append_segment(std::string& out, const char* name, const SegmentRegister& s) {
  out += fmt::format("{:<4} {:04x} base {:016x} limit {:08x} attributes {:04x}\n", name, s.selector,
                     s.base, s.limit, s.attributes);
}

}  // namespace

std::string format_state(const ArchState& s) {
  std::string out;
  for (int i = 0; i < kGprCount; ++i) {
    out += fmt::format("{:<3}={:016x}{}", kGprNames[i], s.gpr[i], i % 4 == 3 ? "\n" : " ");
  }
  out += fmt::format("RIP={:016x} RFLAGS={:08x}\n", s.rip, s.rflags);
  for (int i = 0; i < kSegmentCount; ++i) append_segment(out, kSegmentNames[i], s.segment[i]);
  append_segment(out, "LDTR", s.ldtr);
  append_segment(out, "TR", s.tr);
  out += fmt::format("GDTR base {:016x} limit {:04x}   IDTR base {:016x} limit {:04x}\n",
                     s.gdtr.base, s.gdtr.limit, s.idtr.base, s.idtr.limit);
  out += fmt::format("CR0={:08x} CR2={:016x} CR3={:016x} CR4={:08x} CR8={:x} EFER={:x}\n", s.cr0,
                     s.cr2, s.cr3, s.cr4, s.cr8, s.efer);
  return out;
}

}  // namespace cella::x86
