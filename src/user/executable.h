// Finding what to run: opens a program file, follows "#!" interpreter lines as Linux does
// (fs/binfmt_script.c: the interpreter, one optional argument, then the script path), and parses
// the ELF headers. Used by `cella user` at start-up and by execve to check a program before
// replacing the process, so that a bad program is an error return, not a dead process.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "base/file.h"
#include "base/result.h"
#include "user/elf_file.h"

namespace cella::user {

struct Executable {
  std::string path;               // the ELF file that is loaded
  std::vector<std::string> argv;  // the arguments after "#!" rewriting
  std::string execfn;             // the name the program was started by (AT_EXECFN)
  UniqueFd fd;
  uint64_t size = 0;
  ElfImage image;
};

// Why an executable cannot run: a message for the user, and the errno execve returns.
struct ExecFailure {
  int error_number;
  Error error;
};

// Opens `path` with arguments `argv` (argv[0] included).
std::variant<Executable, ExecFailure> open_executable(const std::string& path,
                                                      std::vector<std::string> argv);

// Opens an ELF file without "#!" handling (the PT_INTERP interpreter).
std::variant<Executable, ExecFailure> open_elf(const std::string& path);

}  // namespace cella::user
