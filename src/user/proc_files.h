// The guest's own /proc files. The host's /proc/self describes the emulator; for the files
// programs read about themselves the process VM answers with the guest's view: `maps` (its
// memory areas, proc(5) format) and `cmdline` (its arguments). /proc/self/exe is rewritten to
// the program's path in syscall_args.cc.
#pragma once

#include <optional>
#include <string>

namespace cella::user {

class Process;

// The contents of the guest's version of `path`, or nothing if the host's file is right.
std::optional<std::string> guest_proc_file(Process& process, const std::string& path);

}  // namespace cella::user
