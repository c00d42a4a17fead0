// The serial console on the host's standard input and output. On a terminal, the terminal is
// put in raw mode (every key reaches the guest, Ctrl-C included) and restored on exit; an
// escape character, Ctrl-A, introduces commands to the monitor:
//   Ctrl-A x   quit (the VM is stopped)
//   Ctrl-A b   send a break (the guest's magic SysRq)
//   Ctrl-A a   send a literal Ctrl-A
//   Ctrl-A h   show this help
// On pipes nothing is interpreted, so scripts can drive a guest; the end of input is only the
// end of input (the guest keeps running).
#pragma once

#include <termios.h>

#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"
#include "devices/chardev.h"

namespace cella::machine {

class StdioConsole final : public devices::CharBackend {
 public:
  static constexpr uint8_t kEscape = 0x01;  // Ctrl-A

  // `input_fd` may be -1 (no input). Raw mode and the escape character apply when it is a
  // terminal.
  static Result<std::unique_ptr<StdioConsole>> open(int input_fd, int output_fd);
  ~StdioConsole() override;
  StdioConsole(const StdioConsole&) = delete;
  StdioConsole& operator=(const StdioConsole&) = delete;

  // CharBackend: buffered until flush().
  void transmit(uint8_t byte) override;
  void flush();

  // The descriptor to watch for input; -1 when there is none (any more).
  int input_fd() const { return input_fd_; }
  bool interactive() const { return raw_; }

  enum class Input { kContinue, kQuit };
  // Reads what is available without blocking and queues it for the guest's serial port,
  // interpreting the escape sequences on a terminal.
  Input read_input(devices::CharInputQueue& queue);

 private:
  StdioConsole(int input_fd, int output_fd) : input_fd_(input_fd), output_fd_(output_fd) {}
  void show_help();

  int input_fd_;
  int output_fd_;
  bool raw_ = false;
  bool escape_pending_ = false;
  termios saved_{};
  std::string output_;
};

}  // namespace cella::machine
