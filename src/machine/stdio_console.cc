#include "machine/stdio_console.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace cella::machine {
namespace {

constexpr size_t kFlushThreshold = 4096;

void write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the reader went away: the guest's output is dropped, never blocks us
    data += n;
    size -= static_cast<size_t>(n);
  }
}

}  // namespace

Result<std::unique_ptr<StdioConsole>> StdioConsole::open(int input_fd, int output_fd) {
  std::unique_ptr<StdioConsole> console(new StdioConsole(input_fd, output_fd));
  if (input_fd >= 0 && ::isatty(input_fd) == 1) {
    if (::tcgetattr(input_fd, &console->saved_) != 0) return errno_error("tcgetattr");
    termios raw = console->saved_;
    ::cfmakeraw(&raw);
    // Output post-processing stays on so that the host terminal's newlines behave.
    raw.c_oflag |= OPOST;
    if (::tcsetattr(input_fd, TCSANOW, &raw) != 0) return errno_error("tcsetattr");
    console->raw_ = true;
  }
  if (input_fd >= 0) {
    const int flags = ::fcntl(input_fd, F_GETFL);
    if (flags < 0 || ::fcntl(input_fd, F_SETFL, flags | O_NONBLOCK) != 0) {
      return errno_error("making the console input non-blocking");
    }
  }
  return console;
}

StdioConsole::~StdioConsole() {
  flush();
  if (raw_) ::tcsetattr(input_fd_, TCSANOW, &saved_);
  if (input_fd_ >= 0) {
    const int flags = ::fcntl(input_fd_, F_GETFL);
    if (flags >= 0) ::fcntl(input_fd_, F_SETFL, flags & ~O_NONBLOCK);
  }
}

void StdioConsole::transmit(uint8_t byte) {
  output_.push_back(static_cast<char>(byte));
  if (output_.size() >= kFlushThreshold) flush();
}

void StdioConsole::flush() {
  if (output_.empty()) return;
  write_all(output_fd_, output_.data(), output_.size());
  output_.clear();
}

void StdioConsole::show_help() {
  static constexpr char kHelp[] =
      "\r\nCtrl-A x  quit    Ctrl-A b  send break    Ctrl-A a  send Ctrl-A    Ctrl-A h  help\r\n";
  flush();
  write_all(output_fd_, kHelp, sizeof(kHelp) - 1);
}

StdioConsole::Input StdioConsole::read_input(devices::CharInputQueue& queue) {
  if (input_fd_ < 0) return Input::kContinue;
  uint8_t buffer[512];
  const ssize_t n = ::read(input_fd_, buffer, sizeof(buffer));
  if (n == 0) {
    input_fd_ = -1;  // end of input: stop watching, the guest runs on
    return Input::kContinue;
  }
  if (n < 0) {
    if (errno != EAGAIN && errno != EINTR) input_fd_ = -1;
    return Input::kContinue;
  }
  if (!raw_) {
    queue.push({buffer, static_cast<size_t>(n)});
    return Input::kContinue;
  }
  std::vector<uint8_t> guest;
  for (ssize_t i = 0; i < n; ++i) {
    const uint8_t byte = buffer[i];
    if (!escape_pending_) {
      if (byte == kEscape) {
        escape_pending_ = true;
      } else {
        guest.push_back(byte);
      }
      continue;
    }
    escape_pending_ = false;
    switch (byte) {
      case 'x':
      case 'X':
        queue.push(guest);
        return Input::kQuit;
      case 'b':
        queue.push(guest);
        guest.clear();
        queue.push_break();
        break;
      case 'a':
      case kEscape:
        guest.push_back(kEscape);
        break;
      default:
        show_help();
        break;
    }
  }
  queue.push(guest);
  return Input::kContinue;
}

}  // namespace cella::machine
