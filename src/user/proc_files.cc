#include "user/proc_files.h"

#include <sys/sysmacros.h>
#include <unistd.h>

#include <fmt/format.h>

#include "user/process.h"

namespace cella::user {

namespace {

// proc(5) /proc/pid/maps: "start-end perms offset major:minor inode", then the name padded
// to column 73 (fs/proc/task_mmu.c show_map_vma).
std::string maps(Process& process) {
  std::string text;
  for (const auto& [start, vma] : process.memory().areas().areas()) {
    std::string line = fmt::format("{:08x}-{:08x} {}{}{}{} {:08x} {:02x}:{:02x} {} ", vma.start,
                                   vma.end, vma.protection & prot::kRead ? 'r' : '-',
                                   vma.protection & prot::kWrite ? 'w' : '-',
                                   vma.protection & prot::kExec ? 'x' : '-', vma.shared ? 's' : 'p',
                                   vma.offset, major(vma.device), minor(vma.device), vma.inode);
    if (!vma.name.empty()) {
      constexpr size_t kNameColumn = 73;
      if (line.size() < kNameColumn) line.append(kNameColumn - line.size(), ' ');
      line += vma.name;
    }
    text += line + "\n";
  }
  return text;
}

// /proc/pid/cmdline: the arguments, each NUL-terminated.
std::string cmdline(Process& process) {
  std::string text;
  for (const std::string& arg : process.arguments()) text.append(arg).push_back('\0');
  return text;
}

}  // namespace

std::optional<std::string> guest_proc_file(Process& process, const std::string& path) {
  static const std::string kOwn = "/proc/" + std::to_string(getpid()) + "/";
  std::string file;
  for (const std::string& prefix :
       {std::string("/proc/self/"), std::string("/proc/thread-self/"), kOwn}) {
    if (path.compare(0, prefix.size(), prefix) == 0) file = path.substr(prefix.size());
  }
  if (file == "maps") return maps(process);
  if (file == "cmdline") return cmdline(process);
  return std::nullopt;
}

}  // namespace cella::user
